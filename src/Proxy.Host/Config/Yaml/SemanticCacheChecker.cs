namespace Proxy.Host.Config.Yaml;

/// <summary>
/// Cross-section check: a semantic cache embeds through a model group of this gateway, which should exist (a warning,
/// not an error: it may be added later through /model/new; until then lookups fail over to uncached requests).
/// </summary>
internal static class SemanticCacheChecker
{
    public static void Check(ConfigReader reader, YamlSection root, GatewayConfig config)
    {
        var settings = config.LitellmSettings;
        var p = settings.CacheParams;
        if (config.ModelList.Count == 0 || !settings.Cache || p.Type is not ("redis-semantic" or "qdrant-semantic" or "local-semantic"))
        {
            return;
        }

        var key = p.Type == "qdrant-semantic" ? "qdrant_semantic_cache_embedding_model" : "redis_semantic_cache_embedding_model";
        var model = (p.Type == "qdrant-semantic" ? p.QdrantSemanticCacheEmbeddingModel : p.RedisSemanticCacheEmbeddingModel) ?? "text-embedding-ada-002";
        foreach (var deployment in config.ModelList)
        {
            if (deployment.ModelName == model)
            {
                return;
            }
        }

        reader.Warning(root.LineOf("litellm_settings"), $"litellm_settings.cache_params.{key}",
            $"names model group '{model}', which no model_list entry defines: prompts cannot be embedded, so the semantic cache answers nothing until it exists");
    }
}
