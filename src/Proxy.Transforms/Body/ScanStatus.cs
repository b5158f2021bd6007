namespace Proxy.Transforms.Body;

/// <summary>Outcome of <see cref="RequestScanner.Scan"/>; anything but <see cref="Ok"/> becomes a 400.</summary>
public enum ScanStatus
{
    Ok,
    InvalidJson,
    NotAnObject,

    /// <summary><c>messages</c>, <c>prompt</c> or <c>input</c> appears more than once at the top level.</summary>
    DuplicatePrompt,
}
