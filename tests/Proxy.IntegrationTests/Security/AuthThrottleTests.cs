using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Security;

/// <summary>
/// Issue 13, item 5: authentication failures are throttled per client address, unknown keys cost the store almost
/// nothing, and a key already at its limits is refused before its body is read. Two gateways share one embedded
/// store, so a key made on one must be looked up by the other.
/// </summary>
public sealed class AuthThrottleTests : IAsyncLifetime
{
    private KeysGateway _keys = null!;
    private GatewayInstance _second = null!;

    public async Task InitializeAsync()
    {
        _keys = await KeysGateway.StartAsync();
        _second = await GatewayInstance.StartAsync(KeysGateway.Config(_keys.Upstream.BaseUrl), directory: _keys.Gateway.Directory);
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _keys.DisposeAsync();
    }

    [Fact]
    public async Task Random_unknown_keys_from_one_address_are_throttled_while_real_new_keys_still_get_in_fast()
    {
        const int total = 3_000;
        var statuses = new int[600];
        var sent = 0;
        var watch = Stopwatch.StartNew();
        var budget = TimeSpan.FromSeconds(120);
        var flood = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= total && watch.Elapsed < budget)
            {
                using var request = _second.Post("/v1/chat/completions", """{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""",
                    "sk-" + Guid.NewGuid().ToString("N"));
                using var response = await _second.Http.SendAsync(request);
                Interlocked.Increment(ref statuses[(int)response.StatusCode]);
            }
        })).ToArray();

        // While the flood runs: a key made on this gateway (cached here) from the flooding address, and a key made on
        // the other gateway (this one must look it up) from another address.
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref statuses[429]) > 100), TimeSpan.FromSeconds(60));
        var (local, _) = await GenerateAsync(_second);
        var (remote, _) = await _keys.GenerateAsync();
        var localTook = await TimeChatAsync(_second.Http, local);
        using var otherAddress = ClientFrom(IPAddress.Parse("127.0.0.2"), _second.RootUrl);
        var remoteTook = await TimeChatAsync(otherAddress, remote);
        await Task.WhenAll(flood);
        var elapsed = watch.Elapsed;

        Assert.True(localTook < TimeSpan.FromSeconds(2), $"a cached key took {localTook} during the flood");
        Assert.True(remoteTook < TimeSpan.FromSeconds(2), $"a new key from another address took {remoteTook} during the flood");
        var answered = statuses.Sum();
        Assert.True(answered >= total, $"only {answered} of {total} answered within {budget}");
        // Every 401 cost a store lookup: the first window's failures, then at most one a second. A failure is counted
        // when its lookup ends, so the 8 senders' requests already past the check when the 20th fails add up to 8.
        var lookups = statuses[401];
        Assert.True(lookups <= 20 + 8 + (int)Math.Ceiling(elapsed.TotalSeconds) + 2, $"{lookups} lookups in {elapsed} (429s: {statuses[429]})");
        Assert.Equal(answered, statuses[401] + statuses[429]);
    }

    [Fact]
    public async Task Wrong_master_key_guesses_are_throttled_but_the_master_key_still_works_from_that_address()
    {
        for (var i = 0; i < 25; i++)
        {
            using var request = _second.Post("/v1/chat/completions", """{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", "not-the-master-" + i);
            using var response = await _second.Http.SendAsync(request);
            Assert.Equal(i < 20 ? HttpStatusCode.Unauthorized : HttpStatusCode.TooManyRequests, response.StatusCode);
            if (i >= 20)
            {
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }

        using var master = _second.Post("/v1/chat/completions", """{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey);
        using var answer = await _second.Http.SendAsync(master);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task Key_at_its_rpm_limit_is_refused_before_its_body_is_read()
    {
        var (key, _) = await _keys.GenerateAsync("""{"rpm_limit": 1}""");
        using (var first = await _keys.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // Declares a body and never sends it: only a check made before reading can answer.
        var port = new Uri(_keys.Gateway.RootUrl).Port;
        await using var client = await RawHttpClient.ConnectAsync(port);
        await client.SendHeadersAsync("POST", "/v1/chat/completions", 100_000, "application/json", "Authorization: Bearer " + key);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(429, await client.ReadStatusAsync(timeout.Token));
    }

    private static async Task<(string Key, string Token)> GenerateAsync(GatewayInstance gateway)
    {
        using var request = gateway.Post("/key/generate", "{}", Configs.MasterKey);
        using var response = await gateway.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("key").GetString()!, json.RootElement.GetProperty("token").GetString()!);
    }

    private static async Task<TimeSpan> TimeChatAsync(HttpClient http, string key)
    {
        var watch = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        var took = watch.Elapsed;
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return took;
    }

    // Linux routes all of 127.0.0.0/8 to loopback: binding the client to 127.0.0.2 makes it another address to the gateway.
    private static HttpClient ClientFrom(IPAddress local, string root)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(root), Timeout = TimeSpan.FromSeconds(30) };
    }
}
