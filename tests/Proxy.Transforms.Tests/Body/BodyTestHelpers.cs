using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Tests.Body;

internal static class BodyTestHelpers
{
    public static RequestScan ScanOk(string json)
    {
        var status = RequestScanner.Scan(Encoding.UTF8.GetBytes(json), out var scan);
        Assert.Equal(ScanStatus.Ok, status);
        return scan;
    }

    public static string Splice(string json, string? newModel, bool forceIncludeUsage = false)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        using var output = BodySplicer.Splice(bytes, in scan, newModel, forceIncludeUsage);
        var text = Encoding.UTF8.GetString(output.Span);
        // Every spliced body must be one valid JSON object.
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 });
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        var identity = BodySplicer.IsIdentity(in scan, bytes, newModel, forceIncludeUsage);
        Assert.Equal(identity, text == json);
        return text;
    }

    /// <summary>Normalised form for comparing JSON regardless of whitespace and escaping.</summary>
    public static string Normalize(string json) =>
        JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!.ToJsonString();

    public static void AssertJsonEqual(string expected, string actual) =>
        Assert.Equal(Normalize(expected), Normalize(actual));

    public static string MessagesBody(int promptChars, bool modelLast)
    {
        var prompt = new string('x', promptChars);
        var messages = $$"""[{"role":"system","content":"be brief","model":"decoy"},{"role":"user","content":"{{prompt}}"}]""";
        return modelLast
            ? $$"""{"messages":{{messages}},"temperature":0.2,"stream":true,"model":"qwen3"}"""
            : $$"""{"model":"qwen3","messages":{{messages}},"temperature":0.2,"stream":true}""";
    }
}
