using System.Runtime.CompilerServices;

namespace Proxy.Transforms.Body;

/// <summary>
/// The raw value range of each <see cref="PromptPart"/> in the body (<c>start &lt;&lt; 32 | end</c>; 0 = absent, since a
/// value never starts at offset 0), so that <see cref="RequestScan"/> stays a heap-free struct.
/// </summary>
[InlineArray(Capacity)]
internal struct PromptRangeBuffer
{
    public const int Capacity = 8;

    private long _element0;
}
