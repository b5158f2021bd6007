using System.Globalization;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>Cost, spend and spend logs on Postgres.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SpendTests : IAsyncLifetime
{
    private PostgresDatabase _database = null!;
    private KeysGateway _keys = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        _keys = await KeysGateway.StartAsync(_database.ConnectionString);
    }

    public async Task DisposeAsync() => await _keys.DisposeAsync();

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Response_cost_header_is_usage_times_the_deployment_prices()
    {
        var (key, _) = await _keys.GenerateAsync();
        using var response = await _keys.ChatAsync(key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var usage = body.RootElement.GetProperty("usage");
        var expected = (usage.GetProperty("prompt_tokens").GetInt32() * KeysGateway.InputPrice)
            + (usage.GetProperty("completion_tokens").GetInt32() * KeysGateway.OutputPrice);

        Assert.Equal(expected, double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture));
        Assert.Equal(expected, (await _keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_mock_response_is_costed_like_a_model_answer_and_a_stream_hides_the_usage_it_did_not_ask_for(bool stream)
    {
        // A virtual key's mock_response counts only where the operator allows it.
        await _keys.DisposeAsync();
        _keys = await KeysGateway.StartAsync(_database.ConnectionString, extraGeneral: "  allow_client_mock_response: true");
        var (key, _) = await _keys.GenerateAsync();
        var before = _keys.Upstream.Requests.Count;
        using var response = await _keys.ChatAsync(key, extra: ""","mock_response":"a mocked answer of six words" """ + (stream ? ""","stream":true""" : ""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(before, _keys.Upstream.Requests.Count);

        double cost;
        if (stream)
        {
            Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
            Assert.True(await Eventually.TrueAsync(async () => (await _keys.SpendLogsAsync(key)).Length == 1, TimeSpan.FromSeconds(10)));
            cost = (await _keys.SpendLogsAsync(key))[0].GetProperty("spend").GetDouble();
        }
        else
        {
            using var body = JsonDocument.Parse(text);
            var usage = body.RootElement.GetProperty("usage");
            cost = double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture);
            Assert.Equal((usage.GetProperty("prompt_tokens").GetInt32() * KeysGateway.InputPrice)
                + (usage.GetProperty("completion_tokens").GetInt32() * KeysGateway.OutputPrice), cost);
        }

        Assert.True(cost > 0);
        Assert.Equal(cost, (await _keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble());
    }

    [Fact]
    public async Task Two_hundred_concurrent_requests_add_up_to_exactly_the_right_spend()
    {
        const int count = 200;
        var (key, token) = await _keys.GenerateAsync("""{"key_alias":"busy"}""");
        var responses = await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            using var response = await _keys.ChatAsync(key);
            return (response.StatusCode, Cost: double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture));
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var cost = responses[0].Cost;
        Assert.True(cost > 0);
        Assert.All(responses, r => Assert.Equal(cost, r.Cost));
        var expected = cost * count;
        Assert.Equal(expected, (await _keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble());

        // Written in batches: every row, and the key's spend in the database, once the writer has caught up.
        Assert.True(await Eventually.TrueAsync(async () => (await _keys.SpendLogsAsync(key)).Length == count, TimeSpan.FromSeconds(20)),
            "every request should have its spend-log row");
        var logs = await _keys.SpendLogsAsync(key);
        Assert.Equal(expected, logs.Sum(l => l.GetProperty("spend").GetDouble()));
        Assert.All(logs, l => Assert.Equal("busy", l.GetProperty("metadata").GetProperty("user_api_key_alias").GetString()));
        Assert.True(await Eventually.TrueAsync(async () =>
            await _database.ScalarAsync<double>("""SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = @t""", ("t", token)) == expected,
            TimeSpan.FromSeconds(20)), "the key's stored spend should reach the in-memory spend");
        var global = await _keys.AdminOkAsync(HttpMethod.Get, "/global/spend");
        Assert.Equal(expected, global.GetProperty("spend").GetDouble());
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Streamed_request_is_costed_and_shows_no_usage_chunk_unless_asked()
    {
        var (key, _) = await _keys.GenerateAsync();
        var hidden = await StreamAsync(key, "");
        Assert.DoesNotContain("\"usage\"", hidden.Text);
        Assert.EndsWith("data: [DONE]\n\n", hidden.Text);
        Assert.Contains("\"include_usage\":true", _keys.Upstream.Requests[^1].Body);

        var shown = await StreamAsync(key, ""","stream_options":{"include_usage":true}""");
        Assert.Contains("\"choices\":[],\"usage\"", shown.Text);

        Assert.True(await Eventually.TrueAsync(async () => (await _keys.SpendLogsAsync(key)).Length == 2, TimeSpan.FromSeconds(10)));
        var logs = await _keys.SpendLogsAsync(key);
        var row = logs.Single(l => l.GetProperty("request_id").GetString() == hidden.CallId);
        Assert.True(row.GetProperty("completion_tokens").GetInt32() > 0);
        Assert.True(row.GetProperty("prompt_tokens").GetInt32() > 0);
        var expected = (row.GetProperty("prompt_tokens").GetInt32() * KeysGateway.InputPrice) + (row.GetProperty("completion_tokens").GetInt32() * KeysGateway.OutputPrice);
        Assert.Equal(expected, row.GetProperty("spend").GetDouble());
        Assert.Equal("success", row.GetProperty("status").GetString());
        Assert.Equal("qwen3-8b", row.GetProperty("model_group").GetString());
        Assert.Equal(logs.Sum(l => l.GetProperty("spend").GetDouble()), (await _keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble());
    }

    private async Task<(string Text, string CallId)> StreamAsync(string key, string extra)
    {
        using var request = _keys.Gateway.Post("/v1/chat/completions",
            $$"""{"model":"qwen3-8b","stream":true,"max_tokens":5,"messages":[{"role":"user","content":"stream it"}]{{extra}}}""", key);
        using var response = await _keys.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync(), response.Headers.GetValues("x-litellm-call-id").Single());
    }
}
