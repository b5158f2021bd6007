namespace Proxy.Abstractions;

/// <summary>A model_list entry added through /model/new (STORE_MODEL_IN_DB): JSON objects as stored.</summary>
public sealed record StoredModel(string Id, string ModelName, string LitellmParamsJson, string ModelInfoJson);
