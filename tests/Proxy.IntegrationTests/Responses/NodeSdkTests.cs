using System.Diagnostics;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;
using Proxy.Transforms.Responses;

namespace Proxy.IntegrationTests.Responses;

/// <summary>
/// The official Node SDK (npm openai, installed by scripts/openai-node.sh) through two gateway replicas, the client
/// alternating between them: responses.create, responses.stream, retrieve, a function-tool round trip, a three-turn
/// previous_response_id chain and delete; once against two native vLLM fakes (each stores only its own responses),
/// once against two chat-only deployments (the bridge, its responses in a shared PostgreSQL).
/// </summary>
public sealed class NodeSdkTests : IAsyncLifetime
{
    private FakeUpstreamServer _first = null!;
    private FakeUpstreamServer _second = null!;

    public async Task InitializeAsync()
    {
        _first = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { ToolCallOnWeather = true });
        _second = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { ToolCallOnWeather = true });
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    [Fact]
    public async Task The_node_sdk_works_against_native_vllm_deployments_through_two_replicas()
    {
        var config = Config(bridged: false);
        await using var replicaA = await GatewayInstance.StartAsync(config);
        await using var replicaB = await GatewayInstance.StartAsync(config);

        var report = await RunAsync(replicaA, replicaB);

        AssertCommon(report, gatewayStored: false);
        Assert.Contains("The tool returned: 12 C", report.GetProperty("tool").GetProperty("text").GetString(), StringComparison.Ordinal);
        // Every turn of the chain stayed on the deployment that stores its first turn.
        var homes = report.GetProperty("chain").EnumerateArray().Select(turn => Decode(turn.GetProperty("id").GetString()!).DeploymentId).Distinct();
        Assert.Single(homes);
        Assert.Equal(0, _first.Requests.Count(r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_node_sdk_works_against_chat_only_deployments_through_the_bridge()
    {
        var environment = new Dictionary<string, string?> { ["DATABASE_URL"] = (await PostgresDatabase.CreateAsync()).ConnectionString };
        var config = Config(bridged: true);
        await using var replicaA = await GatewayInstance.StartAsync(config, environment);
        await using var replicaB = await GatewayInstance.StartAsync(config, environment);

        var report = await RunAsync(replicaA, replicaB);

        AssertCommon(report, gatewayStored: true);
        Assert.Contains("Tool result: 12 C", report.GetProperty("tool").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _first.StoredResponses + _second.StoredResponses);
        // The third turn went upstream with the two before it.
        var third = _first.Requests.Concat(_second.Requests).Last(r => r.Body.Contains("turn 2", StringComparison.Ordinal));
        Assert.Contains("turn 0", third.Body, StringComparison.Ordinal);
        Assert.Contains("turn 1", third.Body, StringComparison.Ordinal);
    }

    private static void AssertCommon(JsonElement report, bool gatewayStored)
    {
        var created = report.GetProperty("created");
        Assert.Equal("response", created.GetProperty("object").GetString());
        Assert.Equal("completed", created.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(created.GetProperty("text").GetString()));
        Assert.True(created.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal(gatewayStored, Decode(created.GetProperty("id").GetString()!).GatewayStored);

        var stream = report.GetProperty("stream");
        var types = stream.GetProperty("types").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal("response.created", types[0]);
        Assert.Equal("response.completed", types[^1]);
        Assert.Contains("response.output_text.delta", types);
        Assert.Contains("response.output_item.done", types);
        var sequence = stream.GetProperty("sequence").EnumerateArray().Select(n => n.GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(sequence[0], sequence.Count), sequence);
        Assert.Equal(stream.GetProperty("deltas").GetString(), stream.GetProperty("text").GetString());
        Assert.Equal(gatewayStored, Decode(stream.GetProperty("id").GetString()!).GatewayStored);

        var retrieved = report.GetProperty("retrieved");
        Assert.Equal(created.GetProperty("id").GetString(), retrieved.GetProperty("id").GetString());
        Assert.Equal(created.GetProperty("text").GetString(), retrieved.GetProperty("text").GetString());

        var tool = report.GetProperty("tool");
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        Assert.Equal(tool.GetProperty("callResponseId").GetString(), tool.GetProperty("previous").GetString());

        var chain = report.GetProperty("chain").EnumerateArray().ToList();
        Assert.Equal(3, chain.Count);
        Assert.Equal(JsonValueKind.Null, chain[0].GetProperty("previous").ValueKind);
        Assert.Equal(chain[0].GetProperty("id").GetString(), chain[1].GetProperty("previous").GetString());
        Assert.Equal(chain[1].GetProperty("id").GetString(), chain[2].GetProperty("previous").GetString());

        Assert.True(report.GetProperty("deleted").GetProperty("deleted").GetBoolean());
        Assert.Equal(404, report.GetProperty("deleted").GetProperty("afterDelete").GetInt32());
    }

    private static DecodedResponseId Decode(string id)
    {
        Assert.True(ResponseIdCodec.TryDecode(id, out var decoded), id);
        return decoded;
    }

    private static async Task<JsonElement> RunAsync(GatewayInstance replicaA, GatewayInstance replicaB)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(RepoFiles.Root, "tests/Proxy.IntegrationTests/Responses/node/responses-sdk.cjs")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["OPENAI_NODE"] = TestServices.OpenAiNode;
        start.Environment["GATEWAY_URLS"] = $"{replicaA.V1},{replicaB.V1}";
        start.Environment["GATEWAY_KEY"] = Configs.MasterKey;
        start.Environment["MODEL"] = "chat";
        // Nothing may leave 127.0.0.1.
        foreach (var proxy in (string[])["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"])
        {
            start.Environment.Remove(proxy);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"node exited with {process.ExitCode}: {await stderr}\n{output}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private string Config(bool bridged)
    {
        var info = bridged ? "\n    model_info:\n      supports_responses_api: false" : "";
        return $"""
            model_list:
              - model_name: chat
                litellm_params:
                  model: hosted_vllm/fake-model
                  api_base: {_first.BaseUrl}{info}
              - model_name: chat
                litellm_params:
                  model: hosted_vllm/fake-model
                  api_base: {_second.BaseUrl}{info}
            router_settings:
              num_retries: 0
            general_settings:
              master_key: {Configs.MasterKey}
            """;
    }
}
