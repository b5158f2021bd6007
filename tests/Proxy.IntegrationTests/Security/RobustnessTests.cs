using System.Net;
using System.Text;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Security;

/// <summary>Issue 13, item 8: what a client or an operator writes cannot forge a log line or turn a request into a 500.</summary>
public sealed class RobustnessTests
{
    [Fact]
    public async Task Control_characters_in_a_logged_path_are_escaped_in_the_text_log()
    {
        await using var upstream = await FakeUpstreamServer.StartAsync();
        await using var gateway = await GatewayProcess.StartAsync(Configs.SingleUpstream(upstream.BaseUrl));
        await using (var client = await RawHttpClient.ConnectAsync(gateway.Port))
        {
            // %0A decodes to a newline in the path the gateway logs; the rest would read as a line of its own.
            await client.SendAsync(Encoding.ASCII.GetBytes(
                "GET /v1/x%0A2099-01-01T00:00:00.000Z%20info:%20Proxy.Access[1500]%20forged%0D HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal(404, await client.ReadStatusAsync(timeout.Token));
        }

        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(gateway.Output.Contains("forged", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)),
            "the request was not logged: " + gateway.Output);
        var lines = gateway.Output.Split('\n');
        Assert.DoesNotContain(lines, line => line.StartsWith("2099-01-01", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("/v1/x\\x0a2099-01-01", StringComparison.Ordinal) && line.Contains("forged\\x0d", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_model_name_in_another_script_is_served_with_its_header_percent_encoded()
    {
        await using var upstream = await FakeUpstreamServer.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: 通义千问
                litellm_params:
                  model: hosted_vllm/qwen
                  api_base: {{upstream.BaseUrl}}
                model_info:
                  id: 部署-1
              - model_name: mock-模型
                litellm_params:
                  model: openai/mock
                  mock_response: "你好"
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);

        foreach (var (model, id) in new[] { ("通义千问", "部署-1"), ("mock-模型", null) })
        {
            foreach (var stream in new[] { false, true })
            {
                using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
                    $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey));
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model} stream={stream}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.Equal(Uri.EscapeDataString(model), response.Headers.GetValues("x-litellm-model-group").Single());
                if (id is not null)
                {
                    Assert.Equal(Uri.EscapeDataString(id), response.Headers.GetValues("x-litellm-model-id").Single());
                }
            }
        }
    }
}
