using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Proxy.Admin.Tenants;

/// <summary>
/// The customer (end user) a request is made for, in LiteLLM's order: the x-litellm-customer-id header, the
/// x-litellm-end-user-id header, the body's <c>user</c>, <c>litellm_metadata.user</c>, <c>metadata.user_id</c>,
/// <c>safety_identifier</c>. The body is only scanned when it names one of those at all.
/// </summary>
internal static class CustomerId
{
    // Longer ids are not tracked: a customer id is a label and a primary key, not a payload.
    public const int MaxLength = 256;

    public static string? Resolve(IHeaderDictionary headers, ReadOnlySpan<byte> body, out bool fromBody)
    {
        fromBody = false;
        if (Header(headers, "x-litellm-customer-id") is { } customer)
        {
            return customer;
        }

        if (Header(headers, "x-litellm-end-user-id") is { } endUser)
        {
            return endUser;
        }

        if (body.IndexOf("\"user"u8) < 0 && body.IndexOf("\"safety_identifier\""u8) < 0)
        {
            return null;
        }

        fromBody = true;
        return FromBody(body);
    }

    private static string? Header(IHeaderDictionary headers, string name)
    {
        if (!headers.TryGetValue(name, out var values) || values.Count != 1)
        {
            return null;
        }

        var value = values[0]?.Trim();
        return string.IsNullOrEmpty(value) || value.Length > MaxLength ? null : value;
    }

    private static string? FromBody(ReadOnlySpan<byte> body)
    {
        string? user = null, litellmMetadataUser = null, metadataUserId = null, safety = null;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("user"u8))
                {
                    user = ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("safety_identifier"u8))
                {
                    safety = ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("litellm_metadata"u8))
                {
                    litellmMetadataUser = ReadMember(ref reader, "user"u8) ?? litellmMetadataUser;
                }
                else if (reader.ValueTextEquals("metadata"u8))
                {
                    metadataUserId = ReadMember(ref reader, "user_id"u8) ?? metadataUserId;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // The body was parsed already by routing; a body that fails here names no customer.
            return null;
        }

        var id = user ?? litellmMetadataUser ?? metadataUserId ?? safety;
        return string.IsNullOrEmpty(id) || id.Length > MaxLength ? null : id;
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static string? ReadMember(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? found = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                found = ReadString(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return found;
    }
}
