namespace Proxy.Admin.Storage;

/// <summary>A row of LiteLLM_VerificationToken. Lists and objects are JSON text; times are Unix milliseconds.</summary>
internal sealed class KeyRow
{
    public string Token { get; set; } = "";

    public string? KeyName { get; set; }

    public string? KeyAlias { get; set; }

    public double Spend { get; set; }

    public double? MaxBudget { get; set; }

    public string? BudgetDuration { get; set; }

    public long? BudgetResetAt { get; set; }

    public long? Expires { get; set; }

    public string Models { get; set; } = "[]";

    public long? TpmLimit { get; set; }

    public long? RpmLimit { get; set; }

    public long? MaxParallelRequests { get; set; }

    public string Metadata { get; set; } = "{}";

    public string? UserId { get; set; }

    public string? TeamId { get; set; }

    public string? OrganizationId { get; set; }

    public string? BudgetId { get; set; }

    /// <summary>JSON object: model → {"budget_limit", "time_period"} (or a plain number, LiteLLM's older form).</summary>
    public string ModelMaxBudget { get; set; } = "{}";

    public double? SoftBudget { get; set; }

    public long Blocked { get; set; }

    public string? CreatedBy { get; set; }

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    public KeyRow Clone() => (KeyRow)MemberwiseClone();
}
