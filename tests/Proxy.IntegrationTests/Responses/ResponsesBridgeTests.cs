using System.ClientModel;
using System.Net;
using System.Text.Json;
using FakeUpstream;
using OpenAI.Responses;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;
using Proxy.Transforms.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.

namespace Proxy.IntegrationTests.Responses;

/// <summary>
/// The Responses-to-chat bridge: deployments that speak only chat (model_info.supports_responses_api: false, anthropic/)
/// answer the official .NET SDK's Responses calls; the gateway keeps their responses (embedded SQLite, PostgreSQL) so
/// chains, GET, DELETE and input_items work across replicas and restarts; bad input and unknown ids are clean 4xx.
/// </summary>
public sealed class ResponsesBridgeTests : IAsyncLifetime
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
    public async Task The_sdk_creates_streams_retrieves_and_deletes_a_bridged_response()
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl));
        var client = Sdk.Client(gateway).GetResponsesClient();

        ResponseResult created = await client.CreateResponseAsync("chat", "hello there", previousResponseId: null);

        Assert.True(ResponseIdCodec.TryDecode(created.Id, out var decoded), created.Id);
        Assert.True(decoded.GatewayStored);
        Assert.Equal("/v1/chat/completions", _first.Requests.Last().Path);
        Assert.StartsWith("The quick brown fox", created.GetOutputText(), StringComparison.Ordinal);
        Assert.True(created.Usage.InputTokenCount > 0);
        Assert.True(created.Usage.OutputTokenCount > 0);
        Assert.Equal(created.Usage.InputTokenCount + created.Usage.OutputTokenCount, created.Usage.TotalTokenCount);

        var deltas = new List<string>();
        var ids = new HashSet<string>();
        var sequence = new List<int>();
        await foreach (var update in await client.CreateResponseStreamingAsync("chat", "stream please", previousResponseId: null))
        {
            sequence.Add(update.SequenceNumber);
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
                    Assert.True(done.Response.Usage.OutputTokenCount > 0);
                    break;
            }
        }

        Assert.True(deltas.Count > 1);
        Assert.True(ResponseIdCodec.TryDecode(Assert.Single(ids), out var streamed) && streamed.GatewayStored);
        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);

        ResponseResult fetched = await client.GetResponseAsync(created.Id);
        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal(created.GetOutputText(), fetched.GetOutputText());

        await client.DeleteResponseAsync(created.Id);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task A_bridged_stream_sends_openais_events_in_order_and_no_done_marker()
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl));

        using var response = await PostAsync(gateway, """{"model":"chat","input":"hi","stream":true}""");
        var text = await response.Content.ReadAsStringAsync();
        var events = SseEvents(text);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        var types = events.Select(e => e.Name).Distinct().ToList();
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            types);
        Assert.All(events, e => Assert.Equal(e.Name, e.Data.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        var completed = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        var usage = completed.GetProperty("usage");
        Assert.Equal(usage.GetProperty("input_tokens").GetInt32() + usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        var deltas = string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => e.Data.GetProperty("delta").GetString()));
        Assert.Equal(deltas, completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Contains("\"include_usage\":true", _first.Requests.Last().Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_request_reaches_the_deployment_as_chat()
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl));

        using var response = await PostAsync(gateway, """
            {"model":"chat","instructions":"Be brief.","max_output_tokens":40,"temperature":0.2,"top_p":0.9,"store":false,
             "reasoning":{"effort":"high"},
             "input":[{"role":"user","content":[{"type":"input_text","text":"What is this?"},{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"low"}]}],
             "tools":[{"type":"function","name":"lookup","description":"Look up","parameters":{"type":"object","properties":{}}}],
             "tool_choice":{"type":"function","name":"lookup"},
             "text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},"strict":true}}}
            """);
        var answer = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var sent = JsonDocument.Parse(_first.Requests.Last().Body);
        var chat = sent.RootElement;
        Assert.Equal("fake-model", chat.GetProperty("model").GetString());
        Assert.Equal("system", chat.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", chat.GetProperty("messages")[0].GetProperty("content").GetString());
        var parts = chat.GetProperty("messages")[1].GetProperty("content");
        Assert.Equal("text", parts[0].GetProperty("type").GetString());
        Assert.Equal("data:image/png;base64,AAAA", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("lookup", chat.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("lookup", chat.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(40, chat.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.2, chat.GetProperty("temperature").GetDouble());
        Assert.Equal("answer", chat.GetProperty("response_format").GetProperty("json_schema").GetProperty("name").GetString());
        foreach (var absent in (string[])["input", "instructions", "store", "reasoning", "text", "max_output_tokens"])
        {
            Assert.False(chat.TryGetProperty(absent, out _), absent);
        }

        // The answer repeats the request's settings, as OpenAI's does.
        using var json = JsonDocument.Parse(answer);
        Assert.Equal("Be brief.", json.RootElement.GetProperty("instructions").GetString());
        Assert.False(json.RootElement.GetProperty("store").GetBoolean());
        Assert.Equal("json_schema", json.RootElement.GetProperty("text").GetProperty("format").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_function_tool_round_trip_through_the_bridge()
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl));
        const string tools = ""","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]""";

        using var call = await PostAsync(gateway, """{"model":"chat","input":"what is the weather in Paris?" """ + tools + "}");
        using var callJson = JsonDocument.Parse(await call.Content.ReadAsStringAsync());
        var item = callJson.RootElement.GetProperty("output")[0];
        Assert.Equal("function_call", item.GetProperty("type").GetString());
        Assert.Equal("get_weather", item.GetProperty("name").GetString());
        var callId = item.GetProperty("call_id").GetString();
        var id = callJson.RootElement.GetProperty("id").GetString();

        using var answer = await PostAsync(gateway, $$"""{"model":"chat","previous_response_id":"{{id}}","input":[{"type":"function_call_output","call_id":"{{callId}}","output":"12 C"}]{{tools}}}""");
        var text = await answer.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("Tool result: 12 C", text, StringComparison.Ordinal);
        using var sent = JsonDocument.Parse(_first.Requests.Last().Body);
        var messages = sent.RootElement.GetProperty("messages");
        Assert.Equal(["user", "assistant", "tool"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(callId, messages[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal(callId, messages[2].GetProperty("tool_call_id").GetString());
        using var answerJson = JsonDocument.Parse(text);
        Assert.Equal(id, answerJson.RootElement.GetProperty("previous_response_id").GetString());
    }

    [Fact]
    public async Task A_three_turn_chain_through_two_replicas_on_postgres_carries_the_whole_conversation()
    {
        var database = (await PostgresDatabase.CreateAsync()).ConnectionString;
        var config = ChatOnly(_first.BaseUrl, _second.BaseUrl);
        var environment = new Dictionary<string, string?> { ["DATABASE_URL"] = database };
        await using var replicaA = await GatewayInstance.StartAsync(config, environment);
        await using var replicaB = await GatewayInstance.StartAsync(config, environment);
        var clients = new[] { Sdk.Client(replicaA).GetResponsesClient(), Sdk.Client(replicaB).GetResponsesClient() };

        string? previous = null;
        var answers = new List<string>();
        for (var turn = 0; turn < 3; turn++)
        {
            ResponseResult answer = await clients[turn % 2].CreateResponseAsync("chat", $"turn {turn}", previous);
            Assert.True(ResponseIdCodec.TryDecode(answer.Id, out var decoded) && decoded.GatewayStored);
            Assert.Equal(previous, answer.PreviousResponseId);
            answers.Add(answer.GetOutputText());
            previous = answer.Id;
        }

        // The third turn went out with both earlier turns and their answers, in order, whichever deployment took it.
        var last = _first.Requests.Concat(_second.Requests).Where(r => r.Path == "/v1/chat/completions").Last(r => r.Body.Contains("turn 2", StringComparison.Ordinal));
        using var sent = JsonDocument.Parse(last.Body);
        var messages = sent.RootElement.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), TextOf(m.GetProperty("content")))).ToList();
        Assert.Equal([("user", "turn 0"), ("assistant", answers[0]), ("user", "turn 1"), ("assistant", answers[1]), ("user", "turn 2")], messages);

        // The other replica answers GET and input_items (only the turn's own input) from the shared database.
        ResponseResult fetched = await clients[1].GetResponseAsync(previous!);
        Assert.Equal(answers[2], fetched.GetOutputText());
        using var items = await replicaB.Http.SendAsync(Get($"/v1/responses/{previous}/input_items"));
        using var itemsJson = JsonDocument.Parse(await items.Content.ReadAsStringAsync());
        var data = itemsJson.RootElement.GetProperty("data");
        Assert.Equal(1, data.GetArrayLength());
        Assert.Equal("turn 2", data[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_chain_survives_a_restart_on_the_embedded_store()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-bridge-" + Guid.NewGuid().ToString("N"));
        string id;
        await using (var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl), directory: directory))
        {
            ResponseResult first = await Sdk.Client(gateway).GetResponsesClient().CreateResponseAsync("chat", "remember me", previousResponseId: null);
            id = first.Id;
        }

        await using var restarted = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl), directory: directory);
        ResponseResult next = await Sdk.Client(restarted).GetResponsesClient().CreateResponseAsync("chat", "and now?", id);

        Assert.Equal(id, next.PreviousResponseId);
        Assert.Contains("remember me", _first.Requests.Last().Body, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Bad_input_and_unknown_ids_are_clear_errors_that_call_no_upstream()
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl));
        var unknown = ResponseIdCodec.EncodeGatewayStored("hosted_vllm", "whatever", "resp_never_made");

        using var missing = await PostAsync(gateway, """{"model":"chat"}""");
        using var number = await PostAsync(gateway, """{"model":"chat","input":42}""");
        using var badItem = await PostAsync(gateway, """{"model":"chat","input":[{"type":"web_search_call","id":"ws_1"}]}""");
        using var badTool = await PostAsync(gateway, """{"model":"chat","input":"hi","tools":[{"type":"web_search"}]}""");
        using var followUp = await PostAsync(gateway, $$"""{"model":"chat","input":"hi","previous_response_id":"{{unknown}}"}""");
        using var get = await gateway.Http.SendAsync(Get("/v1/responses/" + unknown));

        Assert.Contains("'input'", await ErrorAssert.IsOpenAiErrorAsync(missing, 400), StringComparison.Ordinal);
        Assert.Contains("number", await ErrorAssert.IsOpenAiErrorAsync(number, 400), StringComparison.Ordinal);
        Assert.Contains("web_search_call", await ErrorAssert.IsOpenAiErrorAsync(badItem, 400), StringComparison.Ordinal);
        Assert.Contains("web_search", await ErrorAssert.IsOpenAiErrorAsync(badTool, 400), StringComparison.Ordinal);
        using (var notFound = JsonDocument.Parse(await followUp.Content.ReadAsStringAsync()))
        {
            var error = notFound.RootElement.GetProperty("error");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal("previous_response_id", error.GetProperty("param").GetString());
        }

        Assert.Contains(unknown, await ErrorAssert.IsOpenAiErrorAsync(followUp, 404), StringComparison.Ordinal);
        Assert.Contains(unknown, await ErrorAssert.IsOpenAiErrorAsync(get, 404), StringComparison.Ordinal);
        Assert.Equal(0, _first.RequestCount);
    }

    [Fact]
    public async Task A_fallback_from_a_failing_native_group_lands_on_a_bridged_one()
    {
        _first.Options.FailStatus = 500;
        await using var gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: native
                litellm_params:
                  model: hosted_vllm/fake-model
                  api_base: {{_first.BaseUrl}}
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {{_second.RootUrl}}
                  api_key: sk-ant-upstream
            router_settings:
              num_retries: 0
              fallbacks: [{"native": ["claude"]}]
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);

        using var json = await PostAsync(gateway, """{"model":"native","input":"hi"}""");
        using var stream = await PostAsync(gateway, """{"model":"native","input":"hi","stream":true}""");
        var body = await json.Content.ReadAsStringAsync();
        var events = SseEvents(await stream.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        using var answer = JsonDocument.Parse(body);
        Assert.True(ResponseIdCodec.TryDecode(answer.RootElement.GetProperty("id").GetString(), out var decoded) && decoded.GatewayStored, body);
        Assert.Equal("anthropic", decoded.Provider);
        Assert.Equal("message", answer.RootElement.GetProperty("output")[0].GetProperty("type").GetString());
        Assert.Contains(_second.Requests, r => r.Path == "/v1/messages");
        // The fake Anthropic stops at its token limit: OpenAI's terminal event for that is response.incomplete.
        Assert.Equal("response." + events[^1].Data.GetProperty("response").GetProperty("status").GetString(), events[^1].Name);
        Assert.Contains(events[^1].Name, (string[])["response.completed", "response.incomplete"]);
    }

    [Fact]
    public async Task A_virtual_key_sees_only_its_own_stored_responses_and_its_spend_is_logged_as_aresponses()
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl).Replace("general_settings:", "general_settings:\n  proxy_batch_write_at: 0.1", StringComparison.Ordinal));
        var keyA = await GenerateKeyAsync(gateway);
        var keyB = await GenerateKeyAsync(gateway);

        using var created = await gateway.Http.SendAsync(gateway.Post("/v1/responses", """{"model":"chat","input":"mine"}""", keyA));
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = json.RootElement.GetProperty("id").GetString()!;
        using var other = await gateway.Http.SendAsync(Get("/v1/responses/" + id, keyB));
        using var otherFollowUp = await gateway.Http.SendAsync(gateway.Post("/v1/responses", $$"""{"model":"chat","input":"yours?","previous_response_id":"{{id}}"}""", keyB));
        using var own = await gateway.Http.SendAsync(Get("/v1/responses/" + id, keyA));
        using var master = await gateway.Http.SendAsync(Get("/v1/responses/" + id));

        Assert.Contains(id, await ErrorAssert.IsOpenAiErrorAsync(other, 404), StringComparison.Ordinal);
        Assert.Contains(id, await ErrorAssert.IsOpenAiErrorAsync(otherFollowUp, 404), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.OK, master.StatusCode);
        JsonElement[] rows = [];
        Assert.True(await Eventually.TrueAsync(async () => (rows = await SpendLogsAsync(gateway, keyA)).Length == 1, TimeSpan.FromSeconds(10)));
        Assert.Equal("aresponses", rows[0].GetProperty("call_type").GetString());
        Assert.Equal(json.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt64(), rows[0].GetProperty("total_tokens").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_master_keys_mock_response_is_answered_as_a_response_without_an_upstream(bool stream)
    {
        await using var gateway = await GatewayInstance.StartAsync(ChatOnly(_first.BaseUrl));

        using var response = await PostAsync(gateway,
            $$"""{"model":"chat","input":"hi","mock_response":"Mocked answer here","stream":{{(stream ? "true" : "false")}}}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var final = stream ? SseEvents(text)[^1].Data.GetProperty("response") : JsonDocument.Parse(text).RootElement;
        Assert.Equal("response", final.GetProperty("object").GetString());
        Assert.Equal("Mocked answer here", final.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.True(final.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal(0, _first.RequestCount);
    }

    private static string ChatOnly(string first, string? second = null)
    {
        var yaml = $"""
            model_list:
              - model_name: chat
                litellm_params:
                  model: hosted_vllm/fake-model
                  api_base: {first}
                model_info:
                  supports_responses_api: false

            """;
        if (second is not null)
        {
            yaml += $"""
                  - model_name: chat
                    litellm_params:
                      model: hosted_vllm/fake-model
                      api_base: {second}
                    model_info:
                      supports_responses_api: false

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

    // A chat message's text: a string, or its text parts joined.
    private static string TextOf(JsonElement content) => content.ValueKind == JsonValueKind.String
        ? content.GetString()!
        : string.Concat(content.EnumerateArray().Select(part => part.GetProperty("text").GetString()));

    internal static List<(string Name, JsonElement Data)> SseEvents(string text)
    {
        var events = new List<(string, JsonElement)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            string? data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
                }
            }

            if (name is not null && data is not null)
            {
                events.Add((name, JsonDocument.Parse(data).RootElement.Clone()));
            }
        }

        return events;
    }

    private static async Task<string> GenerateKeyAsync(GatewayInstance gateway)
    {
        using var response = await gateway.Http.SendAsync(gateway.Post("/key/generate", "{}", Configs.MasterKey));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("key").GetString()!;
    }

    private static async Task<JsonElement[]> SpendLogsAsync(GatewayInstance gateway, string key)
    {
        using var response = await gateway.Http.SendAsync(Get("/spend/logs?api_key=" + Uri.EscapeDataString(key)));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. json.RootElement.EnumerateArray().Select(row => row.Clone())];
    }

    private static Task<HttpResponseMessage> PostAsync(GatewayInstance gateway, string json) =>
        gateway.Http.SendAsync(gateway.Post("/v1/responses", json, Configs.MasterKey));

    private static HttpRequestMessage Get(string path, string key = Configs.MasterKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return request;
    }
}
