using System.Text.RegularExpressions;
using Proxy.Abstractions;

namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>general_settings.pass_through_endpoints</c>.</summary>
internal static partial class PassThroughEndpointsBinder
{
    private static readonly string[] KnownMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    public static IReadOnlyList<PassThroughEndpointConfig> Bind(YamlSection general)
    {
        var entries = general.SectionList("pass_through_endpoints");
        var result = new List<PassThroughEndpointConfig>(entries.Count);
        var paths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var reader = entry.Reader;
            var path = entry.RequiredString("path").Trim();
            var target = entry.RequiredString("target").Trim();
            if (path.Length > 0 && !ValidPath(path))
            {
                reader.Error(entry.LineOf("path"), entry.Child("path"), $"'{path}' must start with '/' and contain only path characters (no '..', '?', '#' or '*')");
            }

            if (target.Length > 0 && (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            {
                // LiteLLM also accepts a Python adapter ("custom_callbacks.anthropic_adapter"); there is no Python here.
                reader.Error(entry.LineOf("target"), entry.Child("target"), $"'{target}' is not an absolute http(s) URL (custom adapters are not supported)");
            }

            var normalised = path.TrimEnd('/');
            if (normalised.Length > 0 && !paths.Add(normalised))
            {
                reader.Error(entry.LineOf("path"), entry.Child("path"), $"'{path}' is already used by another pass-through endpoint");
            }

            result.Add(new PassThroughEndpointConfig
            {
                Index = i,
                Path = normalised.Length == 0 ? "/" : normalised,
                Target = target,
                Headers = BindHeaders(entry.Section("headers")),
                ForwardHeaders = entry.Bool("forward_headers") ?? false,
                IncludeSubpath = entry.Bool("include_subpath") ?? false,
                Methods = BindMethods(entry),
                Auth = entry.Bool("auth") ?? false,
                Line = entry.Line,
            });
            entry.ReportUnknownKeys();
        }

        return result;
    }

    // "/" would take every path the gateway serves; a pass-through owns a prefix of its own.
    private static bool ValidPath(string path) =>
        path.StartsWith('/') && path.TrimEnd('/').Length > 0 && !path.Contains("..", StringComparison.Ordinal) && path.IndexOfAny(['?', '#', '*', '\\', '{', '}', ' ']) < 0;

    private static List<KeyValuePair<string, Secret>> BindHeaders(YamlSection headers)
    {
        var result = new List<KeyValuePair<string, Secret>>();
        foreach (var name in headers.Keys.ToList())
        {
            var value = headers.String(name);
            if (value is null)
            {
                continue;
            }

            // LiteLLM resolves os.environ/NAME inside a header value too ("Bearer os.environ/COHERE_API_KEY").
            var resolved = EmbeddedEnv().Replace(value, match =>
            {
                var variable = match.Groups[1].Value;
                var env = headers.Reader.GetEnv(variable);
                if (env is null)
                {
                    headers.Reader.Warning(headers.LineOf(name), headers.Child(name), $"environment variable '{variable}' is not set; it is sent empty");
                }

                return env ?? "";
            });
            result.Add(new(name, new Secret(resolved)));
        }

        return result;
    }

    private static IReadOnlyList<string>? BindMethods(YamlSection entry)
    {
        var methods = entry.StringList("methods", allowScalar: true);
        if (methods is null)
        {
            return null;
        }

        var result = new List<string>(methods.Count);
        foreach (var method in methods)
        {
            var upper = method.Trim().ToUpperInvariant();
            if (Array.IndexOf(KnownMethods, upper) < 0)
            {
                entry.Reader.Error(entry.LineOf("methods"), entry.Child("methods"), $"unknown HTTP method '{method}'; valid: {string.Join(", ", KnownMethods)}");
                continue;
            }

            result.Add(upper);
        }

        return result;
    }

    [GeneratedRegex(@"os\.environ/([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex EmbeddedEnv();
}
