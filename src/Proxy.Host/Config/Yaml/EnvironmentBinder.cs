using System.Collections.ObjectModel;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>
/// Applies <c>environment_variables</c> to the process before anything else is resolved, as LiteLLM does, so that
/// <c>os.environ/NAME</c> elsewhere in the file can refer to a variable defined here.
/// </summary>
internal static class EnvironmentBinder
{
    public static IReadOnlyDictionary<string, string> Bind(YamlSection root, Action<string, string?> setEnv)
    {
        var s = root.Section("environment_variables");
        var result = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in s.Keys.ToList())
        {
            var node = s.Node(name);
            if (node is null)
            {
                s.Reader.Warning(s.LineOf(name), s.Child(name), "has no value; not set");
                continue;
            }

            if (node is not YamlScalarNode)
            {
                s.Reader.Error(YamlText.Line(node), s.Child(name), $"expected a string, got {YamlText.Describe(node, secret: true, envName: null)}");
                continue;
            }

            var value = s.String(name);
            if (value is null)
            {
                continue;
            }

            result[name] = value;
            setEnv(name, value);
            s.Reader.Define(name, value);
        }

        return new ReadOnlyDictionary<string, string>(result);
    }
}
