using System.Text.Json;

namespace Proxy.Transforms.Body;

/// <summary>
/// A request's routing tags, where LiteLLM takes them from: the body's <c>tags</c> (a list, or one string),
/// <c>metadata.tags</c>, the <c>x-litellm-tags</c> header (comma-separated) and the virtual key's own tags. Read only
/// when tag filtering is on, from the value positions the routing scan recorded.
/// </summary>
public static class RequestTags
{
    public const string HeaderName = "x-litellm-tags";

    /// <summary>The tags in order of first appearance, without duplicates; null when there are none.</summary>
    public static List<string>? Collect(ReadOnlySpan<byte> body, in RequestScan scan, string? header, IReadOnlyList<string>? keyTags)
    {
        List<string>? tags = null;
        if (scan.TagsValueLength > 0)
        {
            ReadTagValue(body.Slice(scan.TagsValueStart, scan.TagsValueLength), ref tags);
        }

        if (scan.MetadataValueLength > 0)
        {
            ReadMetadataTags(body.Slice(scan.MetadataValueStart, scan.MetadataValueLength), ref tags);
        }

        if (!string.IsNullOrEmpty(header))
        {
            foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Add(ref tags, part);
            }
        }

        if (keyTags is not null)
        {
            foreach (var tag in keyTags)
            {
                Add(ref tags, tag);
            }
        }

        return tags;
    }

    private static void ReadTagValue(ReadOnlySpan<byte> value, ref List<string>? tags)
    {
        var reader = new Utf8JsonReader(value);
        if (reader.Read())
        {
            ReadTags(ref reader, ref tags);
        }
    }

    // A tags value LiteLLM would use: a list of strings (others skipped), or a single string as one tag.
    private static void ReadTags(ref Utf8JsonReader reader, ref List<string>? tags)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            Add(ref tags, reader.GetString());
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                Add(ref tags, reader.GetString());
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadMetadataTags(ReadOnlySpan<byte> value, ref List<string>? tags)
    {
        var reader = new Utf8JsonReader(value);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isTags = reader.ValueTextEquals("tags"u8);
            reader.Read();
            if (isTags)
            {
                ReadTags(ref reader, ref tags);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void Add(ref List<string>? tags, string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            return;
        }

        tags ??= [];
        if (!tags.Contains(tag))
        {
            tags.Add(tag);
        }
    }
}
