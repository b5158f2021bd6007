using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>One tab, driven by JavaScript evaluated in the page; every wait is bounded and says what it waited for.</summary>
public sealed class BrowserPage(CdpConnection connection, string sessionId, string browserContextId, string targetId) : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);

    public async Task NavigateAsync(string url)
    {
        var result = await connection.SendAsync("Page.navigate", new JsonObject { ["url"] = url }, sessionId);
        if (result.TryGetProperty("errorText", out var error))
        {
            throw new CdpException($"navigating to {url}: {error.GetString()}");
        }

        await WaitForAsync("document.readyState === 'complete' && location.href !== 'about:blank'", $"{url} to load");
    }

    /// <summary>Evaluates an expression (awaiting a promise) and returns its JSON value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await connection.SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["awaitPromise"] = true,
            ["returnByValue"] = true,
        }, sessionId);
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            var description = exception.TryGetProperty("exception", out var e) && e.TryGetProperty("description", out var d) ? d.GetString() : exception.ToString();
            throw new CdpException($"{expression}: {description}");
        }

        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v : default;
    }

    public async Task<string?> TextAsync(string selector)
    {
        var value = await EvaluateAsync($"document.querySelector({Js(selector)})?.textContent ?? null");
        return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>Polls a JavaScript condition until it is true; fails with the page's location and text when it never is.</summary>
    public async Task WaitForAsync(string condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultWait;
        var clock = Stopwatch.StartNew();
        string? lastError = null;
        while (true)
        {
            try
            {
                if ((await EvaluateAsync($"!!({condition})")).ValueKind == JsonValueKind.True)
                {
                    return;
                }
            }
            catch (CdpException ex)
            {
                // A navigation can replace the document between two polls.
                lastError = ex.Message;
            }

            if (clock.Elapsed > limit)
            {
                break;
            }

            await Task.Delay(40);
        }

        string snapshot;
        try
        {
            snapshot = (await EvaluateAsync("location.href + ' :: ' + (document.body ? document.body.innerText : '').slice(0, 1500)")).ToString();
        }
        catch (CdpException ex)
        {
            snapshot = ex.Message;
        }

        var screenshot = Path.Combine(Path.GetTempPath(), $"ui-test-failure-{Guid.NewGuid():N}.png");
        try
        {
            await File.WriteAllBytesAsync(screenshot, await ScreenshotAsync());
        }
        catch (CdpException)
        {
            screenshot = "(none)";
        }

        throw new TimeoutException($"Waited {limit.TotalSeconds} s for {what} ({condition}). Last error: {lastError}. Page: {snapshot}. Screenshot: {screenshot}");
    }

    public Task WaitForSelectorAsync(string selector, TimeSpan? timeout = null) =>
        WaitForAsync($"document.querySelector({Js(selector)})", $"element {selector}", timeout);

    public async Task ClickAsync(string selector)
    {
        await WaitForAsync($"(e => e && !e.disabled && e.offsetParent !== null)(document.querySelector({Js(selector)}))", $"clickable {selector}");
        await EvaluateAsync($"document.querySelector({Js(selector)}).click()");
    }

    /// <summary>Types a value the way a user would end up with it: sets it and fires input and change.</summary>
    public async Task FillAsync(string selector, string value)
    {
        await WaitForSelectorAsync(selector);
        await EvaluateAsync($$"""
            (() => { const e = document.querySelector({{Js(selector)}}); e.focus(); e.value = {{Js(value)}};
              e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); })()
            """);
    }

    /// <summary>The cookies of this page's browser context, including HttpOnly ones.</summary>
    public async Task<JsonElement[]> CookiesAsync()
    {
        var result = await connection.SendAsync("Storage.getCookies", new JsonObject { ["browserContextId"] = browserContextId });
        return [.. result.GetProperty("cookies").EnumerateArray()];
    }

    /// <summary>A PNG of the viewport; a failed wait saves one to the temp folder and names it in the error.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await connection.SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, sessionId);
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    public static string Js(string value) => JsonSerializer.Serialize(value);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await connection.SendAsync("Target.closeTarget", new JsonObject { ["targetId"] = targetId });
            await connection.SendAsync("Target.disposeBrowserContext", new JsonObject { ["browserContextId"] = browserContextId });
        }
        catch (CdpException)
        {
            // The browser is going away anyway.
        }
    }
}
