using System.ClientModel;
using System.Net;
using System.Text.Json;
using FakeUpstream;
using OpenAI.Responses;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.Transforms.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.

namespace Proxy.IntegrationTests.Responses;

/// <summary>
/// OpenAI's Responses API through the gateway to fake vLLM servers that each remember only their own responses, as
/// vLLM does: the official .NET SDK, chains across two deployments and two gateway replicas, and the error cases.
/// </summary>
public sealed class ResponsesApiTests : IAsyncLifetime
{
    private FakeUpstreamServer _first = null!;
    private FakeUpstreamServer _second = null!;

    public async Task InitializeAsync()
    {
        _first = await FakeUpstreamServer.StartAsync();
        _second = await FakeUpstreamServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    [Fact]
    public async Task The_sdk_creates_streams_retrieves_and_deletes_with_ids_that_name_the_deployment()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(_first.BaseUrl));
        var client = Sdk.Client(gateway).GetResponsesClient();

        ResponseResult created = await client.CreateResponseAsync("chat", "hello there", previousResponseId: null);
        Assert.True(ResponseIdCodec.TryDecode(created.Id, out var decoded), created.Id);
        Assert.Equal("hosted_vllm", decoded.Provider);
        Assert.Contains("hello", created.GetOutputText(), StringComparison.Ordinal);
        Assert.True(created.Usage.OutputTokenCount > 0);

        var deltas = new List<string>();
        var ids = new HashSet<string>();
        await foreach (var update in await client.CreateResponseStreamingAsync("chat", "stream please", previousResponseId: null))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    deltas.Add(delta.Delta);
                    break;
                case StreamingResponseCreatedUpdate started:
                    ids.Add(started.Response.Id);
                    break;
                case StreamingResponseCompletedUpdate done:
                    ids.Add(done.Response.Id);
                    break;
            }
        }

        Assert.NotEmpty(deltas);
        var streamedId = Assert.Single(ids);
        Assert.True(ResponseIdCodec.TryDecode(streamedId, out _));

        ResponseResult fetched = await client.GetResponseAsync(created.Id);
        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal(created.GetOutputText(), fetched.GetOutputText());

        await client.DeleteResponseAsync(created.Id);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task A_three_turn_chain_stays_on_one_of_two_deployments_across_two_gateway_replicas()
    {
        var config = Config(_first.BaseUrl, _second.BaseUrl);
        await using var replicaA = await GatewayInstance.StartAsync(config);
        await using var replicaB = await GatewayInstance.StartAsync(config);
        var clients = new[] { Sdk.Client(replicaA).GetResponsesClient(), Sdk.Client(replicaB).GetResponsesClient() };

        for (var chain = 0; chain < 6; chain++)
        {
            string? previous = null;
            string? home = null;
            for (var turn = 0; turn < 3; turn++)
            {
                // Replicas alternate per request; each fake vLLM knows only the responses it made.
                ResponseResult answer = await clients[(chain + turn) % 2].CreateResponseAsync("chat", $"turn {turn}", previous);
                Assert.True(ResponseIdCodec.TryDecode(answer.Id, out var decoded));
                home ??= decoded.DeploymentId;
                Assert.Equal(home, decoded.DeploymentId);
                Assert.Equal(previous, answer.PreviousResponseId);
                previous = answer.Id;
            }
        }

        // Six chains of three on shuffled deployments: both held some, and every turn was stored where its chain lives.
        Assert.Equal(18, _first.StoredResponses + _second.StoredResponses);
        Assert.Equal(0, _first.StoredResponses % 3);
    }

    [Fact]
    public async Task A_function_tool_round_trip()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(_first.BaseUrl));
        const string tools = ""","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]""";

        using var call = await PostAsync(gateway, """{"model":"chat","input":"what is the weather in Paris?" """ + tools + "}");
        using var callJson = JsonDocument.Parse(await call.Content.ReadAsStringAsync());
        var item = callJson.RootElement.GetProperty("output")[0];
        Assert.Equal("function_call", item.GetProperty("type").GetString());
        var id = callJson.RootElement.GetProperty("id").GetString();

        using var answer = await PostAsync(gateway, $$"""{"model":"chat","previous_response_id":"{{id}}","input":[{"type":"function_call_output","call_id":"{{item.GetProperty("call_id").GetString()}}","output":"12 C"}]{{tools}}}""");
        var text = await answer.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("The tool returned: 12 C", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_and_forged_ids_are_404s_that_name_them_and_call_no_upstream()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(_first.BaseUrl));
        var forged = ResponseIdCodec.Encode("hosted_vllm", "no-such-deployment", "resp_x");

        using var unknown = await PostAsync(gateway, """{"model":"chat","input":"hi","previous_response_id":"resp_not_ours"}""");
        using var forgedFollowUp = await PostAsync(gateway, $$"""{"model":"chat","input":"hi","previous_response_id":"{{forged}}"}""");
        using var forgedGet = await gateway.Http.SendAsync(Get(gateway, "/v1/responses/" + forged));

        Assert.Contains("resp_not_ours", await ErrorAssert.IsOpenAiErrorAsync(unknown, 404), StringComparison.Ordinal);
        Assert.Contains("no-such-deployment", await ErrorAssert.IsOpenAiErrorAsync(forgedFollowUp, 404), StringComparison.Ordinal);
        Assert.Contains("no-such-deployment", await ErrorAssert.IsOpenAiErrorAsync(forgedGet, 404), StringComparison.Ordinal);
        Assert.Equal(0, _first.RequestCount);
    }

    [Fact]
    public async Task A_follow_up_whose_deployment_is_down_is_never_sent_to_another()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(_first.BaseUrl, _second.BaseUrl));
        using var first = await PostAsync(gateway, """{"model":"chat","input":"hi"}""");
        using var json = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var id = json.RootElement.GetProperty("id").GetString()!;
        var (home, other) = _first.StoredResponses == 1 ? (_first, _second) : (_second, _first);
        var otherCalls = other.RequestCount;
        await home.StopAsync();

        using var followUp = await PostAsync(gateway, $$"""{"model":"chat","input":"again","previous_response_id":"{{id}}"}""");

        Assert.True((int)followUp.StatusCode is 502 or 503, $"{(int)followUp.StatusCode}: {await followUp.Content.ReadAsStringAsync()}");
        Assert.Equal(otherCalls, other.RequestCount);
    }

    [Fact]
    public async Task A_follow_up_for_another_model_group_is_refused()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(_first.BaseUrl, group2: _second.BaseUrl));
        using var first = await PostAsync(gateway, """{"model":"chat","input":"hi"}""");
        using var json = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var id = json.RootElement.GetProperty("id").GetString()!;

        using var followUp = await PostAsync(gateway, $$"""{"model":"other","input":"again","previous_response_id":"{{id}}"}""");

        Assert.Contains("'chat'", await ErrorAssert.IsOpenAiErrorAsync(followUp, 400), StringComparison.Ordinal);
        Assert.Equal(0, _second.RequestCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_virtual_keys_responses_are_priced_from_their_usage_and_logged(bool stream)
    {
        await using var keys = await Keys.KeysGateway.StartAsync();
        var (key, _) = await keys.GenerateAsync();

        using var response = await keys.Http.SendAsync(keys.Gateway.Post("/v1/responses",
            $$"""{"model":"qwen3-8b","input":"hello there","stream":{{(stream ? "true" : "false")}}}""", key));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (!stream)
        {
            // The rewritten answer is written whole, with its own length (not chunked).
            Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), response.Content.Headers.ContentLength);
            Assert.False(response.Headers.TransferEncodingChunked ?? false);
        }

        Assert.DoesNotContain("stream_options", keys.Upstream.Requests.Last().Body, StringComparison.Ordinal);
        Assert.True(await Eventually.TrueAsync(async () => (await keys.SpendLogsAsync(key)).Length == 1, TimeSpan.FromSeconds(10)), text);
        var row = (await keys.SpendLogsAsync(key))[0];
        Assert.Equal("aresponses", row.GetProperty("call_type").GetString());
        Assert.True(row.GetProperty("total_tokens").GetInt64() > 16);
        Assert.True(row.GetProperty("spend").GetDouble() > 0);
    }

    private static string Config(string first, string? second = null, string? group2 = null)
    {
        var yaml = $"""
            model_list:
              - model_name: chat
                litellm_params:
                  model: hosted_vllm/fake-model
                  api_base: {first}

            """;
        if (second is not null)
        {
            yaml += $"""
                  - model_name: chat
                    litellm_params:
                      model: hosted_vllm/fake-model
                      api_base: {second}

                """;
        }

        if (group2 is not null)
        {
            yaml += $"""
                  - model_name: other
                    litellm_params:
                      model: hosted_vllm/fake-model
                      api_base: {group2}

                """;
        }

        return yaml + $"""
            router_settings:
              num_retries: 1
              retry_after: 0
            general_settings:
              master_key: {Configs.MasterKey}
            """;
    }

    private static Task<HttpResponseMessage> PostAsync(GatewayInstance gateway, string json) =>
        gateway.Http.SendAsync(gateway.Post("/v1/responses", json, Configs.MasterKey));

    private static HttpRequestMessage Get(GatewayInstance gateway, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        return request;
    }
}
