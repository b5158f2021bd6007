using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Budgets;

namespace Proxy.Admin.Api;

/// <summary>What every tenant API shares: master key only, the body read once, 400/404 in OpenAI's shape, JSON out.</summary>
internal sealed class TenantApiSupport(KeyApi keys, IOpenAiErrorWriter errors, TimeProvider time)
{
    public long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Runs a handler that reads a JSON body; bad JSON and a handler's recorded field error become 400s.</summary>
    public Task WithBodyAsync(HttpContext context, Func<TenantBody, Task> handler) => keys.RunAsync(context, adminOnly: true, async () =>
    {
        using var body = await TenantBody.ReadAsync(context, errors);
        if (body is null)
        {
            return;
        }

        await handler(body);
    });

    public Task RunAsync(HttpContext context, Func<Task> handler) => keys.RunAsync(context, adminOnly: true, handler);

    /// <summary>True (and the 400 written) when the body had a wrong field.</summary>
    public async Task<bool> RejectedAsync(HttpContext context, TenantBody body)
    {
        if (body.Error is not { } message)
        {
            return false;
        }

        await errors.WriteAsync(context, KeyErrors.BadRequest(message, body.ErrorParam));
        return true;
    }

    public Task BadRequestAsync(HttpContext context, string message, string? param = null) => errors.WriteAsync(context, KeyErrors.BadRequest(message, param));

    public Task NotFoundAsync(HttpContext context, string message) => errors.WriteAsync(context, KeyErrors.NotFound(message));

    public static Task JsonAsync(HttpContext context, Action<Utf8JsonWriter> write) => KeyApi.WriteJsonAsync(context, write);

    public static string? Query(HttpContext context, string name) => context.Request.Query[name].ToString() is { Length: > 0 } value ? value : null;

    public static string NewId() => Guid.NewGuid().ToString();
}
