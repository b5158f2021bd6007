namespace Proxy.Transforms.Body;

/// <summary>Outcome of <see cref="RequestScanner.Scan"/>; anything but <see cref="Ok"/> becomes a 400.</summary>
public enum ScanStatus
{
    Ok,
    InvalidJson,
    NotAnObject,
}
