using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Ui;

/// <summary>Config and helpers shared by the UI tests: a priced model in front of a fake vLLM, virtual keys on (SQLite).</summary>
public static class UiGateway
{
    public static string Config(string baseUrl, bool masterKey = true) => $$"""
        model_list:
          - model_name: qwen3-8b
            litellm_params:
              model: hosted_vllm/Qwen/Qwen3-8B
              api_base: {{baseUrl}}
              input_cost_per_token: 0.5
              output_cost_per_token: 0.25
        router_settings:
          num_retries: 0
        general_settings:
          {{(masterKey ? "master_key: " + Configs.MasterKey : "")}}
          proxy_batch_write_at: 0.1
          # The fake vLLM listens on loopback; models added in the UI point at it.
          stored_model_allow_private_api_base: true
        """;

    public static Task<GatewayInstance> StartAsync(FakeUpstreamServer upstream, Dictionary<string, string?>? environment = null, bool masterKey = true) =>
        GatewayInstance.StartAsync(Config(upstream.BaseUrl, masterKey), environment);

    /// <param name="customer">Sent as x-litellm-customer-id (the request is made for that customer).</param>
    public static Task<HttpResponseMessage> ChatAsync(GatewayInstance gateway, string key, string? customer = null, string model = "qwen3-8b")
    {
        var request = gateway.Post("/v1/chat/completions",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hello there"}],"max_tokens":4}""", key);
        if (customer is not null)
        {
            request.Headers.Add("x-litellm-customer-id", customer);
        }

        return gateway.Http.SendAsync(request);
    }

    /// <summary>A new page of its own browser context, logged in, on the Virtual Keys page.</summary>
    public static async Task<BrowserPage> LoggedInPageAsync(ChromiumBrowser browser, GatewayInstance gateway)
    {
        var page = await browser.NewPageAsync();
        await page.NavigateAsync(gateway.RootUrl + "/ui/login");
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", Configs.MasterKey);
        await page.ClickAsync("#login-submit");
        await page.WaitForAsync("location.pathname === '/ui/' && document.body.dataset.loaded === 'keys'", "the Virtual Keys page after login");
        return page;
    }

    public static async Task<JsonElement> AdminAsync(GatewayInstance gateway, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>POST /login as the browser's form would, without following the redirect.</summary>
    public static async Task<HttpResponseMessage> LoginAsync(GatewayInstance gateway, string username, string password)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(gateway.RootUrl) };
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = username, ["password"] = password });
        return await client.PostAsync("/login", form);
    }

    /// <summary>The session token from a successful login's Set-Cookie header.</summary>
    public static string SessionToken(HttpResponseMessage login)
    {
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("token=", StringComparison.Ordinal));
        return cookie["token=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
    }

    /// <summary>A management call authenticated by the session cookie alone (as the UI's JavaScript makes it).</summary>
    public static async Task<HttpResponseMessage> WithSessionAsync(GatewayInstance gateway, HttpMethod method, string path, string token, bool csrfHeader = true, string? json = null)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(gateway.RootUrl) };
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", "token=" + token);
        if (csrfHeader)
        {
            request.Headers.Add("x-litellm-ui", "1");
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
