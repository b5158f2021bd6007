using System.Globalization;

namespace Proxy.Admin.Tenants;

/// <summary>LiteLLM's refusals for teams, members, users, customers, organisations and the proxy budget.</summary>
internal static class TenantErrors
{
    // Budgets are 400 (budget_exceeded), as LiteLLM: a 429 would make the OpenAI SDKs retry a call that cannot succeed.
    public static GatewayError TeamBudget(string teamId, double spend, double max) => Budget(
        $"Budget has been exceeded! Team={teamId} Current cost: {N(spend)}, Max budget: {N(max)}");

    public static GatewayError MemberBudget(string userId, string teamId, double spend, double max) => Budget(
        $"Budget has been exceeded! User={userId} in Team={teamId} Current cost: {N(spend)}, Max budget: {N(max)}");

    public static GatewayError UserBudget(string userId, double spend, double max) => Budget(
        $"ExceededBudget: User={userId} over budget. Spend={N(spend)}, Budget={N(max)}");

    public static GatewayError CustomerBudget(string customerId, double spend, double max) => Budget(
        $"ExceededBudget: End User={customerId} over budget. Spend={N(spend)}, Budget={N(max)}");

    public static GatewayError OrganizationBudget(string organizationId, double spend, double max) => Budget(
        $"Budget has been exceeded! Organization={organizationId} Current cost: {N(spend)}, Max budget: {N(max)}");

    public static GatewayError ProxyBudget(double spend, double max) => Budget(
        $"ExceededBudget: LiteLLM Proxy has exceeded its budget. Current spend: {N(spend)}; Max Budget: {N(max)}");

    public static GatewayError KeyModelBudget(string hash, string? alias, string model, double spend, double max) => Budget(
        $"LiteLLM Virtual Key: {hash}, key_alias: {alias ?? "None"}, exceeded budget for model={model}. Current cost: {N(spend)}, Max budget: {N(max)}");

    public static GatewayError KeyTierBudget(double spend, double max) => Budget(
        $"Budget has been exceeded! Current cost: {N(spend)}, Max budget: {N(max)}");

    public static GatewayError TeamBlocked(string teamId) => new(403, "auth_error",
        $"Authentication Error, Team={teamId} is blocked. Update via `/team/unblock` if you're an admin.");

    public static GatewayError TeamModel(string teamId, string model, string[] allowed) => new(403, "team_model_access_denied",
        $"Team={teamId} not allowed to access model. This team can only access models=[{string.Join(", ", allowed)}]. Tried to access {model}", "model");

    public static GatewayError UserModel(string userId, string model, string[] allowed) => new(403, "key_model_access_denied",
        $"User={userId} not allowed to access model. This user can only access models=[{string.Join(", ", allowed)}]. Tried to access {model}", "model");

    public static GatewayError CustomerBlocked(string customerId) => new(403, "auth_error",
        $"Authentication Error, End User={customerId} is blocked. Update via `/customer/unblock` if you're an admin.");

    public static GatewayError UserParamRequired() => new(400, "invalid_request_error",
        "'user' param not passed in. 'enforce_user_param'=True. Pass the end user's id as 'user' in the body (or the x-litellm-customer-id header).", "user");

    private static GatewayError Budget(string message) => new(400, "budget_exceeded", message);

    // Python's spelling of a float, as LiteLLM's messages have it: 1e-09, not 1E-09.
    private static string N(double value) => value.ToString(CultureInfo.InvariantCulture).Replace('E', 'e');
}
