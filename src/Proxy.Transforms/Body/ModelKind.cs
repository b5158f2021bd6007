namespace Proxy.Transforms.Body;

/// <summary>What the top-level <c>model</c> member looked like.</summary>
public enum ModelKind
{
    Missing,
    String,
    NotString,
}
