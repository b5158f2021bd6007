using System.Security.Cryptography;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>
/// LiteLLM's default deployment id (<c>Router._generate_model_id</c>): sha256 hex of model_name followed by each
/// litellm_params key and <c>str(value)</c> in file order. Built from the raw YAML (before <c>os.environ/</c>
/// resolution), so it is stable across restarts and never depends on a secret's value.
/// </summary>
internal static class DeploymentId
{
    public static string Compute(string modelName, YamlMappingNode? litellmParams)
    {
        var text = new StringBuilder(modelName);
        if (litellmParams is not null)
        {
            foreach (var (key, value) in litellmParams.Children)
            {
                text.Append(YamlText.PythonStr(key)).Append(YamlText.PythonStr(value));
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
