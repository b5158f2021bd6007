using System.Globalization;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;

namespace Proxy.Admin.Budgets;

/// <summary>
/// A request admitted under a virtual key (an HttpContext feature): the key's state as it was before the call, for
/// the response headers, and the key the spend tracker finishes the request on.
/// </summary>
internal sealed class KeyTicket(KeyEntry key, double spend, LimitOutcome limits)
{
    // The router resets the response between attempts, so the headers go on as the response starts.
    private static readonly Func<object, Task> ApplyOnStarting = static state =>
    {
        var ticket = (KeyTicket)state;
        ticket.WriteHeaders(ticket._response!.Headers);
        return Task.CompletedTask;
    };

    private HttpResponse? _response;

    public KeyEntry Key { get; } = key;

    public void WriteHeadersOnStart(HttpResponse response)
    {
        _response = response;
        response.OnStarting(ApplyOnStarting, this);
    }

    public void WriteHeaders(IHeaderDictionary headers)
    {
        var settings = Key.Settings;
        headers["x-litellm-key-spend"] = spend.ToString(CultureInfo.InvariantCulture);
        if (settings.MaxBudget is { } max)
        {
            headers["x-litellm-key-max-budget"] = max.ToString(CultureInfo.InvariantCulture);
        }

        if (settings.RpmLimit is { } rpm)
        {
            headers["x-litellm-key-rpm-limit"] = rpm.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-limit-requests"] = rpm.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-requests"] = limits.RemainingRequests.ToString(CultureInfo.InvariantCulture);
        }

        if (settings.TpmLimit is { } tpm)
        {
            headers["x-litellm-key-tpm-limit"] = tpm.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-limit-tokens"] = tpm.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-tokens"] = limits.RemainingTokens.ToString(CultureInfo.InvariantCulture);
        }
    }
}
