namespace Proxy.Admin.Storage;

/// <summary>A row of LiteLLM_ProxyModelTable: a model added through /model/new (STORE_MODEL_IN_DB).</summary>
internal sealed class ModelRow
{
    public string ModelId { get; set; } = "";

    public string ModelName { get; set; } = "";

    /// <summary>JSON object.</summary>
    public string LitellmParams { get; set; } = "{}";

    /// <summary>JSON object.</summary>
    public string ModelInfo { get; set; } = "{}";

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }
}
