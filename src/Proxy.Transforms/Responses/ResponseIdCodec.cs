using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Proxy.Transforms.Responses;

/// <summary>
/// Response ids that carry the deployment that made them, so that any gateway replica sends a follow-up
/// (<c>previous_response_id</c>, <c>GET /v1/responses/{id}</c>, ...) to the one vLLM server that stores the response,
/// with no shared state. The id a client sees is <c>resp_</c> + base64url(<c>litellm:custom_llm_provider:{provider};
/// model_id:{deployment id};response_id:{upstream id}</c>): LiteLLM's layout (its deployment ids are ours), in the
/// URL-safe alphabet so that the id can sit in a path; LiteLLM's standard-base64 ids are read too. A response the
/// gateway bridged to chat and keeps itself ends in <c>;store:gateway</c> (an addition older ids do not have, so they
/// decode as before).
/// </summary>
public static class ResponseIdCodec
{
    private const string Prefix = "resp_";
    private const string ProviderLabel = "litellm:custom_llm_provider:";
    private const string ModelLabel = ";model_id:";
    private const string ResponseLabel = ";response_id:";
    private const string GatewayStoreSuffix = ";store:gateway";

    // An id longer than this is not one of ours (and decoding it would only cost).
    private const int MaxEncodedLength = 1024;

    public static string Encode(string provider, string deploymentId, string upstreamId)
    {
        var plain = Encoding.UTF8.GetBytes(ProviderLabel + provider + ModelLabel + deploymentId + ResponseLabel + upstreamId);
        return Prefix + Base64Url.EncodeToString(plain);
    }

    /// <summary>The id of a response the gateway stores itself (bridged to chat): it names the deployment that answered and the gateway's own id.</summary>
    public static string EncodeGatewayStored(string provider, string deploymentId, string gatewayId)
    {
        var plain = Encoding.UTF8.GetBytes(ProviderLabel + provider + ModelLabel + deploymentId + ResponseLabel + gatewayId + GatewayStoreSuffix);
        return Prefix + Base64Url.EncodeToString(plain);
    }

    /// <summary>Reads an id the gateway (or LiteLLM) made; false for any other id (the upstream's own, or a forgery that does not parse).</summary>
    public static bool TryDecode(ReadOnlySpan<char> id, out DecodedResponseId decoded)
    {
        decoded = default;
        if (!id.StartsWith(Prefix, StringComparison.Ordinal) || id.Length > MaxEncodedLength)
        {
            return false;
        }

        var encoded = id[Prefix.Length..];
        var bytes = ArrayPool<byte>.Shared.Rent(encoded.Length);
        try
        {
            if (!TryDecodeBase64(encoded, bytes, out var written))
            {
                return false;
            }

            string plain;
            try
            {
                plain = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
            }
            catch (DecoderFallbackException)
            {
                return false;
            }

            if (!plain.StartsWith(ProviderLabel, StringComparison.Ordinal))
            {
                return false;
            }

            var model = plain.IndexOf(ModelLabel, ProviderLabel.Length, StringComparison.Ordinal);
            var response = model < 0 ? -1 : plain.IndexOf(ResponseLabel, model + ModelLabel.Length, StringComparison.Ordinal);
            if (response < 0)
            {
                return false;
            }

            var deployment = plain[(model + ModelLabel.Length)..response];
            var upstream = plain[(response + ResponseLabel.Length)..];
            var stored = upstream.EndsWith(GatewayStoreSuffix, StringComparison.Ordinal);
            if (stored)
            {
                upstream = upstream[..^GatewayStoreSuffix.Length];
            }

            if (deployment.Length == 0 || upstream.Length == 0)
            {
                return false;
            }

            decoded = new DecodedResponseId(plain[ProviderLabel.Length..model], deployment, upstream, stored);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static bool TryDecodeBase64(ReadOnlySpan<char> encoded, Span<byte> bytes, out int written)
    {
        // Base64Url throws on characters outside its alphabet rather than answering false.
        if (Base64Url.IsValid(encoded))
        {
            return Base64Url.TryDecodeFromChars(encoded, bytes, out written);
        }

        // LiteLLM's ids: the standard alphabet, padded.
        return Convert.TryFromBase64Chars(encoded, bytes, out written);
    }
}
