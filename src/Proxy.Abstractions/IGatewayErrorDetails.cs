using System.Text.Json;

namespace Proxy.Abstractions;

/// <summary>
/// Extra members of an error object beside message/type/param/code, for errors whose facts a client should be able to
/// read without parsing the message (a guardrail's verdict). Written inside <c>"error": {...}</c> after <c>code</c>.
/// </summary>
public interface IGatewayErrorDetails
{
    void WriteTo(Utf8JsonWriter writer);
}
