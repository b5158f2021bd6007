namespace Proxy.Admin.Ui;

/// <summary>
/// The current master key as the UI needs it, without ever handing out its value: the host implements it over the
/// live config snapshot, so a reload that changes the key also changes the UI password and ends every session.
/// </summary>
public interface IMasterKeyAccess
{
    bool IsConfigured { get; }

    /// <summary>Constant-time comparison of a presented value with the master key.</summary>
    bool Matches(ReadOnlySpan<char> presented);

    /// <summary>HMAC-SHA256 of <paramref name="label"/> keyed by the master key: a secret bound to it that is not it.</summary>
    byte[] Derive(ReadOnlySpan<byte> label);
}
