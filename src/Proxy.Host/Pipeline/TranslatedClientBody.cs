using Proxy.Transforms.Body;

namespace Proxy.Host.Pipeline;

/// <summary>A translated client's own body and its scan (see <see cref="ProxyRequestState.Client"/>).</summary>
internal sealed class TranslatedClientBody(PooledBuffer body, in RequestScan scan)
{
    private readonly RequestScan _scan = scan;

    public PooledBuffer Body { get; } = body;

    public ref readonly RequestScan Scan => ref _scan;
}
