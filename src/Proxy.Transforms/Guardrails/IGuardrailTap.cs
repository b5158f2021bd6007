using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// A tap that judges the answer (during_call and post_call guardrails). The cache replays a stored answer through the
/// taps when one of these is registered, so a hit is judged like a fresh answer.
/// </summary>
internal interface IGuardrailTap : IResponseTap
{
}
