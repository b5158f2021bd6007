using System.Globalization;

namespace Proxy.Admin.Budgets;

/// <summary>The virtual-key errors, with LiteLLM's statuses and wording, each saying what to do.</summary>
internal static class KeyErrors
{
    public static GatewayError NotVirtualKey(string abbreviated) => new(401, "auth_error",
        $"Authentication Error, LiteLLM Virtual Key expected. Received={abbreviated}, expected to start with 'sk-'.");

    public static GatewayError Expired(long expiresMs, DateTimeOffset now) => new(401, "auth_error",
        $"Authentication Error - Expired Key. Key Expiry time {Iso(expiresMs)} and current time {now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}. Ask an admin for a new key or to extend this one with /key/update.");

    public static GatewayError Blocked() => new(403, "auth_error",
        "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.");

    public static GatewayError DatabaseDown() => new(503, "service_unavailable",
        "Authentication Error, the key could not be checked because the database is not available. Retry shortly.");

    public static GatewayError LookupsBusy() => new(503, "service_unavailable",
        "Authentication Error, too many keys are being checked against the database right now. Retry shortly.", null, 1);

    public static GatewayError ModelNotAllowed(string model, string[] allowed) => new(403, "key_model_access_denied",
        $"key not allowed to access model. This key can only access models=[{string.Join(", ", allowed)}]. Tried to access {model}", "model");

    // LiteLLM answers an exhausted budget with 400: a 429 would make the OpenAI SDKs retry a call that cannot succeed.
    public static GatewayError BudgetExceeded(double spend, double max) => new(400, "budget_exceeded",
        $"Budget has been exceeded! Current cost: {spend.ToString(CultureInfo.InvariantCulture)}, Max budget: {max.ToString(CultureInfo.InvariantCulture)}");

    public static GatewayError RateLimited(string hash, LimitOutcome outcome, DateTimeOffset now) => RateLimited("api_key", hash, outcome, now);

    /// <summary>LiteLLM's limiter message for any descriptor (api_key, team, user, end_user, model_per_key).</summary>
    public static GatewayError RateLimited(string descriptor, string id, LimitOutcome outcome, DateTimeOffset now)
    {
        var type = outcome.Refused switch
        {
            LimitKind.Requests => "requests",
            LimitKind.Tokens => "tokens",
            _ => "max_parallel_requests",
        };
        var resets = now.AddSeconds(outcome.RetryAfterSeconds).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        return new GatewayError(429, "throttling_error",
            $"Rate limit exceeded for {descriptor}: {id}. Limit type: {type}. Current limit: {outcome.Limit}, Remaining: 0. Limit resets at: {resets}",
            null, outcome.RetryAfterSeconds);
    }

    public static GatewayError AdminOnly(string route) => new(401, "auth_error",
        $"Authentication Error, Only proxy admin can be used to call {route}. Use the master key.");

    public static GatewayError BadRequest(string message, string? param = null) => new(400, "invalid_request_error", message, param);

    public static GatewayError NotFound(string message) => new(404, "not_found_error", message);

    public static GatewayError StoreDown(string detail) => new(503, "service_unavailable",
        $"The key database is not available ({detail}). Nothing was changed; retry when it is back.");

    public static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
