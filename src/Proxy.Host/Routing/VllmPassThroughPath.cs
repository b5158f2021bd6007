using System.Text;
using Proxy.Abstractions;

namespace Proxy.Host.Routing;

/// <summary>
/// The upstream path of a <c>/vllm/{path}</c> request, checked so that it stays below the deployment's server root:
/// every segment is re-encoded, and a segment that is empty, "." or "..", or carries an encoded slash or a backslash
/// is refused (the client cannot climb out of the root, or reach another route through a path the upstream would
/// normalise). The query goes as it came.
/// </summary>
internal static class VllmPassThroughPath
{
    public const string Prefix = "/vllm/";

    public static bool TryBuild(PathString path, QueryString query, out string pathAndQuery, out GatewayError error)
    {
        pathAndQuery = "";
        error = default;
        var value = path.Value ?? "";
        if (!value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || value.Length == Prefix.Length)
        {
            error = Refuse(value, "name the vLLM endpoint after /vllm/, e.g. /vllm/score");
            return false;
        }

        var builder = new StringBuilder(value.Length + query.Value?.Length ?? 0);
        foreach (var segment in value[Prefix.Length..].Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Contains('\\', StringComparison.Ordinal)
                || segment.Contains("%2f", StringComparison.OrdinalIgnoreCase) || segment.Contains("%5c", StringComparison.OrdinalIgnoreCase)
                || HasControl(segment))
            {
                error = Refuse(value, "empty, '.' and '..' segments, encoded slashes and backslashes are not forwarded");
                return false;
            }

            builder.Append('/').Append(Uri.EscapeDataString(segment));
        }

        builder.Append(query.Value);
        pathAndQuery = builder.ToString();
        return true;
    }

    private static bool HasControl(string segment)
    {
        foreach (var c in segment)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    private static GatewayError Refuse(string path, string reason) => new(400, "invalid_request_error",
        $"The pass-through path '{path}' is not allowed: {reason}.", "path");
}
