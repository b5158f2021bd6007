using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Proxy.Admin.Ui;

/// <summary>The UI's files (plain HTML, CSS and JS embedded in this assembly), loaded once and served from memory.</summary>
internal sealed class UiAssets
{
    private const string Prefix = "ui/";

    private readonly FrozenDictionary<string, UiAsset> _assets;

    public UiAssets()
    {
        var assembly = typeof(UiAssets).Assembly;
        var assets = new Dictionary<string, UiAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource[Prefix.Length..];
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12)) + "\"";
            assets[name] = new UiAsset(name, bytes, ContentTypeOf(name), etag);
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public UiAsset? Find(string name) => _assets.GetValueOrDefault(name);

    public UiAsset Get(string name) => _assets.TryGetValue(name, out var asset)
        ? asset
        : throw new InvalidOperationException($"The UI file {name} is not embedded in Proxy.Admin; check the EmbeddedResource item in Proxy.Admin.csproj.");

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
