using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>OpenAI's answers for operations on a stored response: the deletion object and the input_items list page.</summary>
public static class StoredResponseAnswers
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 100;

    public static string Deleted(string id) => System.Text.Encoding.UTF8.GetString(ResponseObjectWriter.Serialize(json =>
    {
        json.WriteStartObject();
        json.WriteString("id"u8, id);
        json.WriteString("object"u8, "response"u8);
        json.WriteBoolean("deleted"u8, true);
        json.WriteEndObject();
    }));

    /// <summary>
    /// One page of a response's input items, as OpenAI's <c>GET /v1/responses/{id}/input_items</c>: <c>order</c> desc by
    /// default (newest first), <c>limit</c> 1-100 (default 20), <c>after</c> an item id.
    /// </summary>
    public static string InputItems(string items, IQueryCollection query)
    {
        var all = ResponseItems.FromJsonArray(items);
        var ids = new List<string?>(all.Count);
        foreach (var item in all)
        {
            using var document = JsonDocument.Parse(item);
            ids.Add(ResponsesRequestTranslator.StringOf(document.RootElement, "id"));
        }

        var order = Enumerable.Range(0, all.Count);
        if (!string.Equals(query["order"], "asc", StringComparison.OrdinalIgnoreCase))
        {
            order = order.Reverse();
        }

        var indices = order.ToList();
        if (query["after"].ToString() is { Length: > 0 } after && ids.IndexOf(after) is >= 0 and var at)
        {
            indices = indices.SkipWhile(i => i != at).Skip(1).ToList();
        }

        var limit = int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var asked) ? Math.Clamp(asked, 1, MaxLimit) : DefaultLimit;
        var page = indices.Take(limit).ToList();
        return System.Text.Encoding.UTF8.GetString(ResponseObjectWriter.Serialize(json =>
        {
            json.WriteStartObject();
            json.WriteString("object"u8, "list"u8);
            json.WriteStartArray("data"u8);
            foreach (var i in page)
            {
                json.WriteRawValue(all[i], skipInputValidation: true);
            }

            json.WriteEndArray();
            json.WriteString("first_id"u8, page.Count > 0 ? ids[page[0]] : null);
            json.WriteString("last_id"u8, page.Count > 0 ? ids[page[^1]] : null);
            json.WriteBoolean("has_more"u8, indices.Count > page.Count);
            json.WriteEndObject();
        }));
    }
}
