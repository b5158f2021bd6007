using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class ExampleConfigTests
{
    [Fact]
    public async Task Example_config_serves_its_mock_group_with_no_upstream()
    {
        await using var gateway = await GatewayInstance.StartAsync(RepoFiles.Read("config/example.yaml"));

        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}""", "sk-1234"));

        Assert.Equal(200, (int)response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("mock_response", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Example_config_vllm_group_without_a_server_is_a_clear_502()
    {
        await using var gateway = await GatewayInstance.StartAsync(RepoFiles.Read("config/example.yaml")
            .Replace("http://127.0.0.1:8000/v1", "http://127.0.0.1:9/v1", StringComparison.Ordinal));

        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", "sk-1234"));

        await ErrorAssert.IsOpenAiErrorAsync(response, 502);
    }
}
