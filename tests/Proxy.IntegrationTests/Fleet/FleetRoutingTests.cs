using System.Net;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using FakeUpstream.Fleet;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Fleet;

/// <summary>
/// Fleet routing end to end: real gateways on Kestrel in front of simulated vLLM engines (FakeUpstream's fleet mode), which
/// report the cached_tokens their prefix caches really served.
/// </summary>
public sealed class FleetRoutingTests : IAsyncLifetime
{
    private const string Group = "fleet";
    private static readonly string SharedSystem = string.Concat(Enumerable.Range(0, 40).Select(i => $"Rule {i}: answer briefly and cite the source. "));
    private static readonly string Garden = string.Concat(Enumerable.Range(0, 12).Select(i => $"Bed {i} has clay soil and some shade. "));
    private readonly List<FakeUpstreamServer> _upstreams = [];
    private readonly List<GatewayInstance> _gateways = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        foreach (var upstream in _upstreams)
        {
            await upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Session_affinity_holds_across_20_turns()
    {
        var upstreams = await EnginesAsync(4);
        var gateway = await GatewayAsync(upstreams, "simple-shuffle", "  optional_pre_call_checks: [session_affinity]\n");
        var sessions = Enumerable.Range(0, 5).Select(i => new Conversation($"session-{i}")).ToList();
        for (var turn = 0; turn < 20; turn++)
        {
            foreach (var session in sessions)
            {
                var answer = await session.TurnAsync(gateway, $"turn {turn}: what next?");
                Assert.Equal(turn == 0 ? "" : "session", answer.Decision);
            }
        }

        foreach (var session in sessions)
        {
            Assert.Single(session.Deployments.Distinct());
            Assert.Equal(20, session.Deployments.Count);
        }

        // Control: the same turns without a session id are shuffled over the group.
        var anonymous = new Conversation(null);
        for (var turn = 0; turn < 20; turn++)
        {
            await anonymous.TurnAsync(gateway, $"turn {turn}");
        }

        Assert.True(anonymous.Deployments.Distinct().Count() > 1);
    }

    [Fact]
    public async Task Deployment_affinity_pins_a_virtual_keys_requests()
    {
        var upstreams = await EnginesAsync(3);
        var gateway = await GatewayAsync(upstreams, "simple-shuffle", "  optional_pre_call_checks: [deployment_affinity]\n");
        using var generated = await gateway.Http.SendAsync(gateway.Post("/key/generate", "{}", Configs.MasterKey));
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        using var keyJson = JsonDocument.Parse(await generated.Content.ReadAsStringAsync());
        var key = keyJson.RootElement.GetProperty("key").GetString()!;
        var seen = new HashSet<string>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
                $$"""{"model":"{{Group}}","max_tokens":4,"messages":[{"role":"user","content":"request {{i}}"}]}""", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.Add(Header(response, "x-litellm-model-id"));
        }

        Assert.Single(seen);
    }

    [Fact]
    public async Task Prefix_cache_aware_keeps_a_conversation_where_its_prefix_is_cached()
    {
        var upstreams = await EnginesAsync(4);
        var gateway = await GatewayAsync(upstreams, "prefix-cache-aware", "");
        var conversation = new Conversation(null);
        for (var turn = 0; turn < 6; turn++)
        {
            var answer = await conversation.TurnAsync(gateway, $"Question {turn}: explain rule {turn} in detail, please.");
            if (turn == 0)
            {
                Assert.Equal("home", answer.Decision);
                Assert.Equal(0, answer.Cached);
                continue;
            }

            Assert.StartsWith("prefix-hit ", answer.Decision, StringComparison.Ordinal);
            // The engine served the whole previous turn (its answer included) from its cache.
            Assert.True(answer.Cached >= conversation.Answers[turn - 1].Prompt - 16, $"turn {turn}: cached {answer.Cached} of {answer.Prompt}");
        }

        Assert.Single(conversation.Deployments.Distinct());
        var metrics = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(5, metrics.Value("gateway_routing_decisions_total", ("model_group", Group), ("decision", "prefix-hit")));
        Assert.Equal(1, metrics.Value("gateway_routing_decisions_total", ("model_group", Group), ("decision", "home")));
        Assert.InRange(metrics.Value("gateway_prefix_cache_token_hit_rate", ("model_group", Group)), 0.5, 1.0);
        Assert.Equal(6, metrics.Value("gateway_prefix_cache_prediction_error_tokens_count", ("model_group", Group)));
    }

    [Fact]
    public async Task Two_gateway_processes_agree_on_the_home_of_new_conversations()
    {
        var upstreams = await EnginesAsync(4);
        var first = await GatewayAsync(upstreams, "prefix-cache-aware", "");
        var second = await GatewayAsync(upstreams, "prefix-cache-aware", "");
        var agreed = 0;
        var homes = new HashSet<string>();
        const int Conversations = 100;
        for (var i = 0; i < Conversations; i++)
        {
            var opening = $"Conversation {i}: I am planning a trip and would like advice on trains, hotels and food for day {i}.";
            var a = await new Conversation(null, sharedSystemPrompt: false).TurnAsync(first, opening);
            var b = await new Conversation(null, sharedSystemPrompt: false).TurnAsync(second, opening);
            agreed += a.Deployment == b.Deployment ? 1 : 0;
            homes.Add(a.Deployment);
        }

        Assert.True(agreed >= Conversations * 95 / 100, $"{agreed} of {Conversations} agreed");
        // Not trivially: the homes are spread over the group.
        Assert.Equal(4, homes.Count);

        // New conversations that open with the same long system prompt agree too (on the prompt's home).
        agreed = 0;
        for (var i = 0; i < 20; i++)
        {
            var opening = $"Conversation {i} with the shared rules.";
            var a = await new Conversation(null).TurnAsync(first, opening);
            var b = await new Conversation(null).TurnAsync(second, opening);
            agreed += a.Deployment == b.Deployment ? 1 : 0;
        }

        Assert.True(agreed >= 19, $"{agreed} of 20 agreed");
    }

    [Fact]
    public async Task Killed_home_sends_its_sessions_elsewhere_without_errors_and_they_come_home_after_its_cooldown()
    {
        var upstreams = await EnginesAsync(3);
        var gateway = await GatewayAsync(upstreams, "prefix-cache-aware",
            "  optional_pre_call_checks: [session_affinity]\n  allowed_fails: 0\n  cooldown_time: 1\n");
        var sessions = Enumerable.Range(0, 9).Select(i => new Conversation($"trip-{i}")).ToList();
        foreach (var session in sessions)
        {
            await session.TurnAsync(gateway, $"Hello, I am {session.Id}.");
        }

        var home = sessions[0].Deployments[0];
        var homed = sessions.Where(s => s.Deployments[0] == home).ToList();
        var killed = upstreams[Index(home)];
        await killed.StopAsync();

        for (var turn = 0; turn < 3; turn++)
        {
            foreach (var session in sessions)
            {
                // TurnAsync asserts a 200: zero client errors while the home is down.
                var answer = await session.TurnAsync(gateway, $"Outage turn {turn}.");
                Assert.NotEqual(home, answer.Deployment);
            }
        }

        await killed.RestartAsync();
        // Back after its cooldown (1 s): the homed sessions return, each on its next turn.
        Assert.True(await Eventually.TrueAsync(async () => (await homed[0].TurnAsync(gateway, "Are you back?")).Deployment == home, TimeSpan.FromSeconds(20)));
        foreach (var session in homed)
        {
            var answer = await session.TurnAsync(gateway, "Back home.");
            Assert.Equal(home, answer.Deployment);
            Assert.Equal("session", answer.Decision);
        }

        foreach (var session in sessions.Except(homed))
        {
            Assert.Single(session.Deployments.Distinct());
        }
    }

    [Fact]
    public async Task Killed_and_restarted_home_costs_no_errors_its_idle_conversations_come_home_and_moved_ones_stay_on_their_cache()
    {
        var upstreams = await EnginesAsync(3);
        // Scraping on: the gateway sees the restart (vLLM's process start time) and forgets the home's lost cache.
        var gateway = await GatewayAsync(upstreams, "prefix-cache-aware", "  allowed_fails: 0\n  cooldown_time: 1\n  vllm_metrics_interval: 0.1\n");
        var (conversations, home, homed) = await OpenConversationsAsync(gateway);
        var moved = homed.Where((_, i) => i % 2 == 0).ToList();
        var idle = homed.Except(moved).ToList();
        var killed = upstreams[Index(home)];
        await killed.StopAsync();
        foreach (var conversation in conversations.Except(idle))
        {
            // TurnAsync asserts a 200: zero client errors while the home is down.
            var answer = await conversation.TurnAsync(gateway, "What about summer?");
            Assert.NotEqual(home, answer.Deployment);
        }

        await killed.RestartAsync();
        await OutOfCooldownAsync(gateway);
        // The scraper sees the new process (its start time changed) within a few intervals.
        Assert.True(await Eventually.TrueAsync(async () =>
            (await PrometheusText.ScrapeAsync(gateway.Http)).Matching("gateway_vllm_engine_restarts", ("model_id", home)).Any(m => m.Value >= 1),
            TimeSpan.FromSeconds(20)));

        // Idle conversations go home (nothing of theirs is cached anywhere now, and home is where every replica sends them).
        foreach (var conversation in idle)
        {
            var answer = await conversation.TurnAsync(gateway, "And autumn?");
            Assert.Equal(home, answer.Deployment);
        }

        // Conversations that moved stay where their prefix is now cached: going back would prefill all of it again.
        foreach (var conversation in moved)
        {
            var answer = await conversation.TurnAsync(gateway, "And autumn?");
            Assert.Equal(conversation.Deployments[^2], answer.Deployment);
            Assert.StartsWith("prefix-hit", answer.Decision, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Failing_home_costs_no_errors_and_all_its_conversations_come_home_after_its_cooldown()
    {
        var upstreams = await EnginesAsync(3);
        var gateway = await GatewayAsync(upstreams, "prefix-cache-aware", "  allowed_fails: 0\n  cooldown_time: 1\n");
        var (conversations, home, homed) = await OpenConversationsAsync(gateway);
        // The home answers 503 for a while (overloaded, or a network blip) but keeps its cache.
        var failing = upstreams[Index(home)];
        failing.Options.FailStatus = 503;
        foreach (var conversation in conversations)
        {
            var answer = await conversation.TurnAsync(gateway, "What about summer?");
            Assert.NotEqual(home, answer.Deployment);
        }

        failing.Options.FailStatus = null;
        await OutOfCooldownAsync(gateway);

        // Every conversation of the home comes back: the home holds all of each but the one turn it missed.
        foreach (var conversation in homed)
        {
            var answer = await conversation.TurnAsync(gateway, "And autumn?");
            Assert.Equal(home, answer.Deployment);
            Assert.StartsWith("prefix-hit", answer.Decision, StringComparison.Ordinal);
            Assert.True(answer.Cached > conversation.Answers[0].Prompt - 32, $"cached {answer.Cached}, first turn {conversation.Answers[0].Prompt}");
        }
    }

    /// <summary>24 new conversations (no shared system prompt, ~10 blocks each); the home of the first and those sharing it.</summary>
    private static async Task<(List<Conversation> All, string Home, List<Conversation> Homed)> OpenConversationsAsync(GatewayInstance gateway)
    {
        var conversations = new List<Conversation>();
        for (var i = 0; i < 24; i++)
        {
            var conversation = new Conversation(null, sharedSystemPrompt: false);
            await conversation.TurnAsync(gateway, $"Conversation {i} opens with a question about gardening in spring. " + Garden);
            conversations.Add(conversation);
        }

        var home = conversations[0].Deployments[0];
        var homed = conversations.Where(c => c.Deployments[0] == home).ToList();
        Assert.True(homed.Count >= 4, $"{homed.Count} conversations homed at {home}");
        return (conversations, home, homed);
    }

    /// <summary>Waits, without sending a conversation turn (which would move it), until no deployment is cooling down.</summary>
    private static async Task OutOfCooldownAsync(GatewayInstance gateway) =>
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var health = await gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health")
            {
                Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey) },
            });
            return !(await health.Content.ReadAsStringAsync()).Contains("cooling down", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20)));

    private static int Index(string deployment) => int.Parse(deployment[1..], System.Globalization.CultureInfo.InvariantCulture);

    // Skipped, an open defect (#16): in 2 of 3 runs the simulated engine reports a load of 0 a second after it reported 3,
    // while the three direct requests are still being served (the run then lasts their full 22 s), so least-busy sees no
    // load and the turn goes to d0. Whether the simulator's queue accounting or the scrape is wrong is not yet known.
    [Fact(Skip = "flaky: the fleet simulator's reported load drops to 0 while its requests still run; see the comment above")]
    public async Task Least_busy_with_vllm_metrics_sees_load_that_did_not_come_through_this_gateway()
    {
        var upstreams = await EnginesAsync(2, maxNumSeqs: 1, decodeMillisPerToken: 5);
        var gateway = await GatewayAsync(upstreams, "least-busy", "  vllm_metrics_interval: 0.05\n");
        // Another client (a second gateway, say) keeps d0 busy: one running, two waiting.
        using var direct = new HttpClient();
        var busy = Enumerable.Range(0, 3).Select(_ => direct.PostAsync(upstreams[0].BaseUrl + "/chat/completions",
            new StringContent("""{"model":"m","max_tokens":1500,"messages":[{"role":"user","content":"long"}]}""", Encoding.UTF8, "application/json"))).ToList();
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(upstreams[0].Engine!.Load == 3), TimeSpan.FromSeconds(10)));
        // Twenty scrape intervals, generously (a busy machine delays the scraper's timer), for the gateway to see it; the
        // busy requests run for ~7.5 s each, far longer than the checks below.
        await Task.Delay(1000);

        for (var i = 0; i < 5; i++)
        {
            var answer = await new Conversation(null).TurnAsync(gateway, $"quick {i}");
            // Without the scrape both look idle and least-busy's tie goes to the first deployment, d0.
            Assert.True(answer.Deployment == "d1", $"turn {i} went to {answer.Deployment} with d0's engine at {upstreams[0].Engine!.Load}");
        }

        // The busy requests are not waited for: cancelled, their engine frees itself.
        direct.CancelPendingRequests();
        foreach (var call in busy)
        {
            try
            {
                (await call).Dispose();
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task<List<FakeUpstreamServer>> EnginesAsync(int count, int maxNumSeqs = 8, double decodeMillisPerToken = 0.1)
    {
        var result = new List<FakeUpstreamServer>();
        for (var i = 0; i < count; i++)
        {
            var upstream = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions
            {
                MaxModelLen = 200_000,
                DefaultCompletionTokens = 24,
                Simulator = new SimulatorOptions
                {
                    CacheBlocks = 4096,
                    MaxNumSeqs = maxNumSeqs,
                    PrefillMicrosPerToken = 1,
                    DecodeMillisPerToken = decodeMillisPerToken,
                    DecodeMillisPerRunning = 0,
                },
            });
            _upstreams.Add(upstream);
            result.Add(upstream);
        }

        return result;
    }

    private async Task<GatewayInstance> GatewayAsync(List<FakeUpstreamServer> upstreams, string strategy, string routerSettings)
    {
        var yaml = new StringBuilder("model_list:\n");
        for (var i = 0; i < upstreams.Count; i++)
        {
            yaml.Append(CultureInfo($"""
                  - model_name: {Group}
                    litellm_params:
                      model: hosted_vllm/qwen
                      api_base: {upstreams[i].BaseUrl}
                    model_info:
                      id: d{i}

                """));
        }

        yaml.Append("router_settings:\n  routing_strategy: ").Append(strategy).Append("\n  num_retries: 3\n").Append(routerSettings)
            .Append("general_settings:\n  master_key: ").Append(Configs.MasterKey).Append('\n');
        var gateway = await GatewayInstance.StartAsync(yaml.ToString());
        _gateways.Add(gateway);
        return gateway;
    }

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : "";

    private sealed record Answer(string Deployment, string Decision, int Prompt, int Cached);

    /// <summary>A multi-turn chat that resends its history, answers included, as a client does.</summary>
    private sealed class Conversation(string? sessionId, bool sharedSystemPrompt = true)
    {
        private readonly List<(string Role, string Content)> _messages = sharedSystemPrompt ? [("system", SharedSystem)] : [];

        public string? Id => sessionId;

        public List<string> Deployments { get; } = [];

        public List<Answer> Answers { get; } = [];

        public async Task<Answer> TurnAsync(GatewayInstance gateway, string user)
        {
            var messages = new List<(string Role, string Content)>(_messages) { ("user", user) };
            var body = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["model"] = Group,
                ["max_tokens"] = 24,
                ["messages"] = messages.Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content }).ToArray(),
            });
            using var request = gateway.Post("/v1/chat/completions", body, Configs.MasterKey);
            if (sessionId is not null)
            {
                request.Headers.Add("x-litellm-session-id", sessionId);
            }

            using var response = await gateway.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            using var json = JsonDocument.Parse(text);
            var content = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
            var usage = json.RootElement.GetProperty("usage");
            var answer = new Answer(Header(response, "x-litellm-model-id"), Header(response, "x-litellm-routing-decision"),
                usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
            _messages.Add(("user", user));
            _messages.Add(("assistant", content));
            Deployments.Add(answer.Deployment);
            Answers.Add(answer);
            return answer;
        }
    }
}
