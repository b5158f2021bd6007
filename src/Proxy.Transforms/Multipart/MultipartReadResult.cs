using Proxy.Abstractions;

namespace Proxy.Transforms.Multipart;

/// <summary>What <see cref="MultipartBodyReader.ReadAsync"/> found: the body, or why there is none.</summary>
/// <param name="Body">The spooled body with its parts; null when the request is refused.</param>
/// <param name="Error">The client's mistake; null with a body.</param>
public readonly record struct MultipartReadResult(MultipartBody? Body, GatewayError? Error);
