using System.Text.Json;

namespace Proxy.Admin.Keys;

/// <summary>The JSON-text columns (models, metadata) read and written without reflection.</summary>
internal static class KeyJson
{
    public static string[] ReadStringArray(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var result = new List<string>();
        foreach (var item in document.RootElement.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                result.Add(item.GetString()!);
            }
        }

        return [.. result];
    }

    /// <summary>metadata.guardrails of a key (LiteLLM keeps a key's guardrails there); empty when absent.</summary>
    public static string[] ReadGuardrails(string? metadata)
    {
        if (string.IsNullOrWhiteSpace(metadata))
        {
            return [];
        }

        using var document = JsonDocument.Parse(metadata);
        return document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("guardrails", out var guardrails)
            && guardrails.ValueKind == JsonValueKind.Array
            ? ReadStringArray(guardrails.GetRawText())
            : [];
    }

    /// <summary>The metadata object with its guardrails member set to the list.</summary>
    public static string WithGuardrails(string? metadata, IReadOnlyList<string> guardrails)
    {
        var node = (string.IsNullOrWhiteSpace(metadata) ? null : System.Text.Json.Nodes.JsonNode.Parse(metadata)) as System.Text.Json.Nodes.JsonObject ?? [];
        node["guardrails"] = new System.Text.Json.Nodes.JsonArray([.. guardrails.Select(g => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(g))]);
        return node.ToJsonString();
    }

    /// <summary>The metadata object with one member set to raw JSON (or removed when null).</summary>
    public static string WithMember(string? metadata, string name, string? json)
    {
        var node = (string.IsNullOrWhiteSpace(metadata) ? null : System.Text.Json.Nodes.JsonNode.Parse(metadata)) as System.Text.Json.Nodes.JsonObject ?? [];
        if (json is null)
        {
            node.Remove(name);
        }
        else
        {
            node[name] = System.Text.Json.Nodes.JsonNode.Parse(json);
        }

        return node.ToJsonString();
    }

    public static string WriteStringArray(IReadOnlyList<string> values)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var value in values)
            {
                json.WriteStringValue(value);
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
