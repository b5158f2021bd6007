using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Holds the answer of a request whose during_call check runs beside the model call: the first piece (or the end of an
/// empty answer) waits for the check; a flagged or failed-closed check replaces the answer with its error.
/// </summary>
internal sealed class DuringCallTap(Task<GatewayError?> check) : IGuardrailTap
{
    private bool _passed;

    public bool HoldsBody => true;

    public ValueTask<GatewayError?> OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _passed ? default : AwaitCheckAsync(cancellationToken);

    public ValueTask<GatewayError?> OnCompletedAsync(CancellationToken cancellationToken) =>
        _passed ? default : AwaitCheckAsync(cancellationToken);

    public void OnAborted()
    {
    }

    private async ValueTask<GatewayError?> AwaitCheckAsync(CancellationToken cancellationToken)
    {
        var refused = await check.WaitAsync(cancellationToken);
        _passed = refused is null;
        return refused;
    }
}
