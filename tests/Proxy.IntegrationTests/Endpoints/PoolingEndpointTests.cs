using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// vLLM's rerank, score, tokenizer and pooling endpoints through the gateway, as curl would send them: a virtual key,
/// the model group from the body, the deployment's model spliced in, the upstream path vLLM serves, spend in
/// LiteLLM's units, a retry on the second deployment when the first fails, and 403 for a key without the group.
/// </summary>
public sealed class PoolingEndpointTests : IAsyncLifetime
{
    private FleetGateway _fleet = null!;

    public async Task InitializeAsync() => _fleet = await FleetGateway.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    public static TheoryData<string> RerankPaths => new() { "/rerank", "/v1/rerank", "/v2/rerank" };

    [Theory]
    [MemberData(nameof(RerankPaths))]
    public async Task Cohere_shaped_rerank_is_answered_in_vLLMs_shape_and_billed_per_search_unit(string path)
    {
        var key = await _fleet.GenerateKeyAsync();
        using var response = await _fleet.PostJsonAsync(path, """
            {"model":"reranker","query":"capital of France","documents":["Berlin is in Germany","Paris is the capital of France",{"text":"France has a capital"}],"top_n":2}
            """, key);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);

        using var body = JsonDocument.Parse(text);
        var results = body.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        Assert.Equal(1, results[0].GetProperty("index").GetInt32());
        Assert.Equal("Paris is the capital of France", results[0].GetProperty("document").GetProperty("text").GetString());
        Assert.True(results[0].GetProperty("relevance_score").GetDouble() >= results[1].GetProperty("relevance_score").GetDouble());
        Assert.Equal("rerank-a", response.Headers.GetValues("x-litellm-model-id").Single());
        Assert.Equal(FleetGateway.PerQuery.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("x-litellm-response-cost").Single());

        // LiteLLM's hosted_vllm rerank goes to {api_base}/rerank, with the deployment's model.
        var upstream = _fleet.First.Requests.Single();
        Assert.Equal("/v1/rerank", upstream.Path);
        using var sent = JsonDocument.Parse(upstream.Body);
        Assert.Equal("BAAI/bge-reranker-v2-m3", sent.RootElement.GetProperty("model").GetString());
        Assert.Equal(2, sent.RootElement.GetProperty("top_n").GetInt32());

        var row = (await _fleet.SpendLogsAsync(key)).Single();
        Assert.Equal("arerank", row.GetProperty("call_type").GetString());
        Assert.Equal(FleetGateway.PerQuery, row.GetProperty("spend").GetDouble());
        Assert.Equal("reranker", row.GetProperty("model_group").GetString());
        Assert.True(row.GetProperty("prompt_tokens").GetInt32() > 0, "vLLM's usage.total_tokens is the rerank's prompt tokens");
    }

    public static TheoryData<string, string, string> VllmEndpoints => new()
    {
        { "/score", """{"model":"scorer","text_1":"capital of France","text_2":["Paris is the capital of France","Berlin"]}""", "/score" },
        { "/v1/score", """{"model":"scorer","text_1":"capital of France","text_2":"Paris"}""", "/score" },
        { "/pooling", """{"model":"embedder","input":["hello world","second"]}""", "/pooling" },
        { "/classify", """{"model":"embedder","input":"a cheerful sentence"}""", "/classify" },
        { "/tokenize", """{"model":"embedder","prompt":"Hello there"}""", "/tokenize" },
        { "/detokenize", """{"model":"embedder","tokens":[72,105]}""", "/detokenize" },
    };

    [Theory]
    [MemberData(nameof(VllmEndpoints))]
    public async Task vLLMs_own_endpoints_go_to_the_server_root_and_retry_on_the_second_deployment(string path, string json, string upstreamPath)
    {
        _fleet.First.Options.FailStatus = 500;
        var key = await _fleet.GenerateKeyAsync();

        using var response = await _fleet.PostJsonAsync(path, json, key);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("1", response.Headers.GetValues("x-litellm-attempted-retries").Single());
        Assert.EndsWith("-b", response.Headers.GetValues("x-litellm-model-id").Single(), StringComparison.Ordinal);
        // vLLM serves these at its root, not under /v1; both servers saw the same spliced body.
        Assert.Equal(upstreamPath, _fleet.First.Requests.Single().Path);
        var second = _fleet.Second.Requests.Single();
        Assert.Equal(upstreamPath, second.Path);
        Assert.Equal(_fleet.First.Requests.Single().Body, second.Body);
        using var sent = JsonDocument.Parse(second.Body);
        var expectedModel = json.Contains("\"scorer\"", StringComparison.Ordinal) ? "BAAI/bge-reranker-base" : "intfloat/e5-small";
        Assert.Equal(expectedModel, sent.RootElement.GetProperty("model").GetString());

        var row = (await _fleet.SpendLogsAsync(key)).Single();
        Assert.Equal("success", row.GetProperty("metadata").GetProperty("status").GetString());
        Assert.EndsWith("-b", row.GetProperty("model_id").GetString(), StringComparison.Ordinal);
        var prompt = row.GetProperty("prompt_tokens").GetInt32();
        Assert.Equal(prompt * FleetGateway.PerToken, row.GetProperty("spend").GetDouble());
        if (path is "/score" or "/v1/score" or "/pooling" or "/classify")
        {
            Assert.True(prompt > 0, "vLLM's usage block is read for " + path);
        }

        // The same metrics as chat: one request for the group, and a failed then a successful deployment attempt.
        var group = expectedModel == "BAAI/bge-reranker-base" ? "scorer" : "embedder";
        var metrics = await PrometheusText.ScrapeAsync(_fleet.Http);
        Assert.Equal(1, metrics.Value("litellm_proxy_total_requests_metric_total", ("requested_model", group), ("status_code", "200")));
        Assert.Equal(1, metrics.Value("litellm_deployment_failure_responses_total", ("litellm_model_name", group), ("exception_status", "500")));
        Assert.Equal(1, metrics.Value("litellm_deployment_success_responses_total", ("litellm_model_name", group)));
    }

    [Theory]
    [InlineData("/v1/rerank", """{"model":"reranker","query":"q","documents":["d"]}""")]
    [InlineData("/score", """{"model":"scorer","text_1":"a","text_2":"b"}""")]
    [InlineData("/tokenize", """{"model":"embedder","prompt":"x"}""")]
    [InlineData("/pooling", """{"model":"embedder","input":"x"}""")]
    public async Task A_key_without_the_group_is_refused_before_any_upstream_call(string path, string json)
    {
        var key = await _fleet.GenerateKeyAsync("""{"models":["qwen"]}""");

        using var response = await _fleet.PostJsonAsync(path, json, key);

        await ErrorAssert.IsOpenAiErrorAsync(response, 403);
        Assert.Empty(_fleet.First.Requests);
        Assert.Empty(_fleet.Second.Requests);
    }

    [Fact]
    public async Task An_upstream_400_for_a_bad_rerank_body_is_passed_on_and_not_retried()
    {
        var key = await _fleet.GenerateKeyAsync();

        using var response = await _fleet.PostJsonAsync("/v1/rerank", """{"model":"reranker","documents":["d"]}""", key);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Contains("query", message, StringComparison.Ordinal);
        Assert.Single(_fleet.First.Requests);
        Assert.Empty(_fleet.Second.Requests);
    }

    [Fact]
    public async Task Curl_sends_Coheres_rerank_example_and_gets_the_ranking()
    {
        // The curl binary itself, with the body of Cohere's v2 rerank example (documents as plain strings).
        var key = await _fleet.GenerateKeyAsync();
        var start = new ProcessStartInfo("curl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "-sS", "--max-time", "20", "-w", "\n%{http_code}", _fleet.Gateway.RootUrl + "/v2/rerank",
                "-H", "Authorization: Bearer " + key, "-H", "Content-Type: application/json",
                "-d", """{"model":"reranker","query":"What is the capital of the United States?","top_n":3,"documents":["Carson City is the capital city of the American state of Nevada.","Washington, D.C. is the capital of the United States.","Capital punishment has existed in the United States since before it was a country."]}""",
            },
        };
        using var curl = Process.Start(start)!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync());

        var lines = output.TrimEnd().Split('\n');
        Assert.Equal("200", lines[^1]);
        using var body = JsonDocument.Parse(string.Join('\n', lines[..^1]));
        var results = body.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(3, results.Length);
        Assert.Equal(1, results[0].GetProperty("index").GetInt32());
        Assert.Equal("/v1/rerank", _fleet.First.Requests.Single().Path);
    }
}
