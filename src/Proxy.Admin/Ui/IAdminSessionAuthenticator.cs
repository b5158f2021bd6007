using Microsoft.AspNetCore.Http;

namespace Proxy.Admin.Ui;

/// <summary>Lets the host's auth middleware accept the admin UI's session cookie on management routes.</summary>
public interface IAdminSessionAuthenticator
{
    /// <summary>Called only for a request that carries no API key.</summary>
    AdminSessionCheck Check(HttpContext context, out GatewayError error);
}
