using System.Text;
using System.Text.Json;
using Proxy.Abstractions;

namespace Proxy.Host.Config.Watch;

/// <summary>
/// Adds the database's models (STORE_MODEL_IN_DB) to the config file's model_list. They go through the same loader as
/// the file (JSON is YAML), so a stored model is validated and translated exactly like a written one.
/// </summary>
internal static class StoredModelMerger
{
    public const string SourceName = "(database models)";

    /// <param name="envAllowlist">general_settings.stored_model_env_allowlist of the config file: the only variables a stored
    /// model may name, in its api_key only.</param>
    public static ConfigLoadResult Parse(IReadOnlyList<StoredModel> models, Func<string, string?> getEnv, Action<string, string?> setEnv,
        IReadOnlyList<string> envAllowlist) =>
        ConfigLoader.Parse(ToJson(models), SourceName, getEnv, setEnv, new StoredModelEnvPolicy(envAllowlist));

    public static GatewayConfig Merge(GatewayConfig file, GatewayConfig stored) =>
        file with { ModelList = [.. file.ModelList, .. stored.ModelList.Select(d => d with { IsStored = true })] };

    internal static string ToJson(IReadOnlyList<StoredModel> models)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("model_list");
            foreach (var model in models)
            {
                json.WriteStartObject();
                json.WriteString("model_name", model.ModelName);
                json.WritePropertyName("litellm_params");
                json.WriteRawValue(model.LitellmParamsJson);
                json.WritePropertyName("model_info");
                json.WriteRawValue(model.ModelInfoJson);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
