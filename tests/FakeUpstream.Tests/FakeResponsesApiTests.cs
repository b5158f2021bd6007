using System.Net;
using System.Text;
using System.Text.Json;

namespace FakeUpstream.Tests;

public sealed class FakeResponsesApiTests : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private FakeUpstreamServer _server = null!;
    private FakeUpstreamServer _other = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeUpstreamServer.StartAsync();
        _other = await FakeUpstreamServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _other.DisposeAsync();
    }

    [Fact]
    public async Task A_chain_works_on_the_server_that_stored_it_and_nowhere_else()
    {
        using var first = await PostAsync(_server, """{"model":"m","input":"hello there","max_output_tokens":4}""");
        using var firstJson = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var id = firstJson.RootElement.GetProperty("id").GetString()!;
        // The token limit was reached before the answer's 16 tokens: vLLM reports that as incomplete.
        Assert.Equal("incomplete", firstJson.RootElement.GetProperty("status").GetString());
        Assert.Equal(4, firstJson.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        using var second = await PostAsync(_server, $$"""{"model":"m","input":"and again","previous_response_id":"{{id}}"}""");
        using var elsewhere = await PostAsync(_other, $$"""{"model":"m","input":"and again","previous_response_id":"{{id}}"}""");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Contains($"Response with id '{id}' not found.", await elsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, _server.StoredResponses);
    }

    [Fact]
    public async Task Stream_sends_typed_events_with_sequence_numbers_and_no_done()
    {
        using var response = await PostAsync(_server, """{"model":"m","input":"hi","stream":true,"fake_tokens":3}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0", text, StringComparison.Ordinal);
        Assert.Equal(3, CountOf(text, "event: response.output_text.delta\n"));
        Assert.Contains("event: response.completed\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_input_items_cancel_and_delete()
    {
        using var created = await PostAsync(_server, """{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}]}""");
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = json.RootElement.GetProperty("id").GetString()!;
        var url = _server.BaseUrl + "/responses/" + id;

        using var got = await _http.GetAsync(url);
        using var items = await _http.GetAsync(url + "/input_items");
        using var deleted = await _http.DeleteAsync(url);
        using var gone = await _http.GetAsync(url);

        Assert.Equal(id, JsonDocument.Parse(await got.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());
        Assert.Equal(1, JsonDocument.Parse(await items.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetArrayLength());
        Assert.True(JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement.GetProperty("deleted").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_weather_question_with_tools_gets_a_function_call_and_its_output_gets_text()
    {
        const string tools = ""","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]""";
        using var call = await PostAsync(_server, """{"model":"m","input":"what is the weather in Paris?" """ + tools + "}");
        using var callJson = JsonDocument.Parse(await call.Content.ReadAsStringAsync());
        var item = callJson.RootElement.GetProperty("output")[0];
        Assert.Equal("function_call", item.GetProperty("type").GetString());
        var callId = item.GetProperty("call_id").GetString();

        using var answer = await PostAsync(_server, $$"""{"model":"m","input":[{"type":"function_call_output","call_id":"{{callId}}","output":"12 C"}]{{tools}}}""");
        var text = await answer.Content.ReadAsStringAsync();

        Assert.Contains("The tool returned: 12 C", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_input_is_a_400()
    {
        using var response = await PostAsync(_server, """{"model":"m"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private Task<HttpResponseMessage> PostAsync(FakeUpstreamServer server, string json) =>
        _http.PostAsync(server.BaseUrl + "/responses", new StringContent(json, Encoding.UTF8, "application/json"));

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
