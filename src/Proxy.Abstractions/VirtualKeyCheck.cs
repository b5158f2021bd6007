namespace Proxy.Abstractions;

public enum VirtualKeyCheck
{
    Accepted,
    Rejected,
    Unknown,
}
