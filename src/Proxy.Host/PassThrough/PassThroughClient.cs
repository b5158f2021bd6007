using System.Net;

namespace Proxy.Host.PassThrough;

/// <summary>The one HTTP client of the pass-through endpoints: no proxy, no redirects, no cookies, no decompression (bytes go back as they came).</summary>
internal sealed class PassThroughClient : IDisposable
{
    public HttpMessageInvoker Invoker { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null,
    }, disposeHandler: true);

    public void Dispose() => Invoker.Dispose();
}
