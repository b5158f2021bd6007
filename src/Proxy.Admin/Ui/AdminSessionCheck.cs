namespace Proxy.Admin.Ui;

/// <summary>What a request's UI session cookie means for the auth middleware.</summary>
public enum AdminSessionCheck
{
    /// <summary>No session cookie, or a route the UI session does not cover: authenticate as without the UI.</summary>
    NotApplicable,

    /// <summary>A valid session on a management route, with the CSRF header: the caller is the proxy admin.</summary>
    Admin,

    /// <summary>A session cookie that is expired, forged or revoked, or used without the CSRF header.</summary>
    Rejected,
}
