using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.Transforms.Usage;

/// <summary>
/// Order 50, before the keys stage registers its cost tap: rerank and audio answers get a <see cref="BilledUnitsTap"/>
/// so that a deployment priced per query or per second is costed by LiteLLM's units. Other calls cost nothing here.
/// </summary>
internal sealed class BilledUnitsStage : IGatewayRequestStage
{
    public int Order => 50;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body)
    {
        if (request.Endpoint is OpenAiEndpoint.Rerank or OpenAiEndpoint.AudioTranscriptions or OpenAiEndpoint.AudioTranslations)
        {
            request.AddResponseTap(new BilledUnitsTap(request));
        }

        return ValueTask.FromResult(false);
    }
}
