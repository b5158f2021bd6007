namespace Proxy.Host.Config;

/// <summary>
/// Where a model stored through the admin API may read the gateway's environment: only in
/// <c>model_list[*].litellm_params.api_key</c>, and only variables on <c>general_settings.stored_model_env_allowlist</c>.
/// Anyone holding the master key can store a model, and a stored model's fields come back in answers (a
/// <c>mock_response: os.environ/DATABASE_URL</c> would answer with the database password), so the environment is
/// closed to them by default.
/// </summary>
internal sealed class StoredModelEnvPolicy(IReadOnlyList<string> allowlist)
{
    private const string ApiKeySuffix = ".litellm_params.api_key";

    /// <summary>Null when <c>os.environ/<paramref name="name"/></c> may be read at <paramref name="path"/>; else why not.</summary>
    public string? Refusal(string path, string name)
    {
        if (!IsApiKey(path))
        {
            return "os.environ/ is not allowed in models stored through the API except in litellm_params.api_key; put the value itself here, or add the model to the config file";
        }

        foreach (var allowed in allowlist)
        {
            if (string.Equals(allowed, name, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return $"environment variable '{name}' is not on general_settings.stored_model_env_allowlist, so a stored model may not read it";
    }

    // model_list[N].litellm_params.api_key and nothing deeper or elsewhere.
    private static bool IsApiKey(string path) =>
        path.StartsWith("model_list[", StringComparison.Ordinal) && path.EndsWith(ApiKeySuffix, StringComparison.Ordinal)
        && path.IndexOf('.', StringComparison.Ordinal) == path.Length - ApiKeySuffix.Length;
}
