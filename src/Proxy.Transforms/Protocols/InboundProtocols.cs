using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.Transforms.Protocols;

/// <summary>The registered client protocols, looked up by <see cref="ClientProtocol"/> or by request path.</summary>
public sealed class InboundProtocols
{
    private readonly IInboundProtocol?[] _byProtocol = new IInboundProtocol?[Enum.GetValues<ClientProtocol>().Length];
    private readonly IInboundProtocol[] _all;

    public InboundProtocols(IEnumerable<IInboundProtocol> protocols)
    {
        _all = [.. protocols];
        foreach (var protocol in _all)
        {
            _byProtocol[(int)protocol.Protocol] = protocol;
        }
    }

    /// <summary>The translator of a protocol; null for OpenAI's own, which needs none.</summary>
    public IInboundProtocol? For(ClientProtocol protocol) => _byProtocol[(int)protocol];

    /// <summary>The protocol a request path belongs to (OpenAI's for every path no other protocol claims).</summary>
    public ClientProtocol Detect(PathString path)
    {
        foreach (var protocol in _all)
        {
            if (protocol.TryMatch(path, out _))
            {
                return protocol.Protocol;
            }
        }

        return ClientProtocol.OpenAi;
    }
}
