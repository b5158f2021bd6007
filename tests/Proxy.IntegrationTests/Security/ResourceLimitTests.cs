using System.Diagnostics;
using System.Net;
using System.Text;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Security;

/// <summary>
/// Issue 13, item 5: resources are bounded before authentication. The gateway runs as its own process so that its
/// resident memory can be measured; the bounds are generous because the test machine is shared.
/// </summary>
public sealed class ResourceLimitTests : IAsyncLifetime
{
    private const long Megabyte = 1024 * 1024;

    private FakeUpstreamServer _upstream = null!;
    private GatewayProcess _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        _gateway = await GatewayProcess.StartAsync(Configs.SingleUpstream(_upstream.BaseUrl));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Login_with_a_200_MB_form_is_refused_with_413_within_5_s_and_memory_stays_flat()
    {
        await WarmUpAsync();
        var before = _gateway.RssBytes;
        await using var client = await RawHttpClient.ConnectAsync(_gateway.Port);
        const long total = 200 * Megabyte;
        await client.SendHeadersAsync("POST", "/login", total, "application/x-www-form-urlencoded");
        // Many fields of 1 MB each: every one is under the form reader's own value limit, so only a body limit stops it.
        var piece = FormPiece();
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();
        var send = client.SendBodyAsync(total, _ => piece, sending.Token);
        var peak = before;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var status = client.ReadStatusAsync(timeout.Token);
        while (!status.IsCompleted)
        {
            peak = Math.Max(peak, _gateway.RssBytes);
            await Task.WhenAny(status, Task.Delay(50));
        }

        var answered = watch.Elapsed;
        await sending.CancelAsync();
        await send;
        peak = Math.Max(peak, _gateway.RssBytes);

        Assert.True(peak - before < 50 * Megabyte, $"RSS grew by {(peak - before) / Megabyte} MB (status {await status})");
        Assert.Equal(413, await status);
        Assert.True(answered < TimeSpan.FromSeconds(5), $"answered after {answered}");
    }

    [Fact]
    public async Task Forty_slow_clients_declaring_32_MB_pin_no_memory_and_a_normal_request_still_answers()
    {
        await WarmUpAsync();
        var before = _gateway.RssBytes;
        var committedBefore = _gateway.CommittedBytes;
        var clients = new List<RawHttpClient>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var client = await RawHttpClient.ConnectAsync(_gateway.Port);
                clients.Add(client);
                await client.SendHeadersAsync("POST", "/v1/chat/completions", 32 * Megabyte, "application/json", "Authorization: Bearer " + Configs.MasterKey);
                await client.SendAsync(Encoding.ASCII.GetBytes("""{"model":"qwen3-8b","messages":[{"role":"user","content":" """));
            }

            // Give the gateway time to start reading every one of them.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var grown = _gateway.RssBytes - before;
            var committed = _gateway.CommittedBytes - committedBefore;

            var watch = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
            using var response = await _gateway.Http.SendAsync(request);
            var took = watch.Elapsed;

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(took < TimeSpan.FromSeconds(2), $"a normal request took {took}");
            Assert.True(grown < 400 * Megabyte, $"RSS grew by {grown / Megabyte} MB with 40 slow clients");
            // Rented but untouched buffers are not resident yet; committed memory shows them.
            Assert.True(committed < 400 * Megabyte, $"committed memory grew by {committed / Megabyte} MB with 40 slow clients (RSS {grown / Megabyte} MB)");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Login_refuses_a_multipart_form_without_reading_it()
    {
        using var content = new MultipartFormDataContent { { new StringContent("admin"), "username" }, { new StringContent("x"), "password" } };
        using var response = await _gateway.Http.PostAsync("/login", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Admin_api_body_over_one_megabyte_is_a_413_not_a_500()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/key/generate")
        {
            Content = new StringContent("{\"key_alias\":\"" + new string('a', (int)(2 * Megabyte)) + "\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        // Chunked, so that the server's own limit (not a declared length) is what stops it.
        request.Headers.TransferEncodingChunked = true;
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        // Answered by the first middleware, like every other error: OpenAI's shape, and the call id kept.
        Assert.Contains("\"invalid_request_error\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("x-litellm-call-id"));
    }

    [Fact]
    public async Task Model_routes_still_accept_bodies_up_to_max_request_size_mb()
    {
        var content = new string('x', (int)(3 * Megabyte));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"qwen3-8b","messages":[{"role":"user","content":"{{content}}"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        request.Headers.TransferEncodingChunked = true;
        using var response = await _gateway.Http.SendAsync(request);
        // The fake vLLM refuses a 3 MB prompt for its context window: what counts is that the gateway forwarded it.
        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(1, _upstream.CountFor("/v1/chat/completions"));
    }

    private async Task WarmUpAsync()
    {
        // JIT and the first request's allocations happen before the baseline is taken.
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
            using var response = await _gateway.Http.SendAsync(request);
            using var login = await _gateway.Http.PostAsync("/login", new FormUrlEncodedContent([new("username", "admin"), new("password", Configs.MasterKey)]));
        }
    }

    private static byte[] FormPiece()
    {
        var piece = new byte[(int)Megabyte];
        piece.AsSpan().Fill((byte)'a');
        piece[0] = (byte)'&';
        piece[1] = (byte)'k';
        piece[2] = (byte)'=';
        return piece;
    }
}
