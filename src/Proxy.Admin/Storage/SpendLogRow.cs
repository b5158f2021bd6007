namespace Proxy.Admin.Storage;

/// <summary>A row of LiteLLM_SpendLogs; times are Unix milliseconds.</summary>
internal sealed class SpendLogRow
{
    public string RequestId { get; set; } = "";

    public string CallType { get; set; } = "";

    public string ApiKey { get; set; } = "";

    public string? KeyAlias { get; set; }

    public double Spend { get; set; }

    public long TotalTokens { get; set; }

    public long PromptTokens { get; set; }

    public long CompletionTokens { get; set; }

    public long StartTime { get; set; }

    public long EndTime { get; set; }

    public string? Model { get; set; }

    public string? ModelId { get; set; }

    public string? ModelGroup { get; set; }

    public string? ApiBase { get; set; }

    public long CacheHit { get; set; }

    public string Status { get; set; } = "success";

    public double LatencyMs { get; set; }

    /// <summary>The client's x-litellm-call-id (or the gateway's own id when it sent none); request_id is always the gateway's.</summary>
    public string? CallId { get; set; }

    /// <summary>The internal user of the key ("user" column).</summary>
    public string? UserId { get; set; }

    public string? TeamId { get; set; }

    /// <summary>The customer (end user) the request was made for.</summary>
    public string? EndUser { get; set; }

    public string? OrganizationId { get; set; }
}
