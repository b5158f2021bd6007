using System.Runtime.CompilerServices;

namespace Proxy.Transforms.Body;

/// <summary>
/// Fixed inline storage for byte ranges to cut, so <see cref="RequestScan"/> stays a heap-free struct.
/// Each element packs <c>start &lt;&lt; 32 | end</c>; bodies are capped far below 2 GB.
/// </summary>
[InlineArray(Capacity)]
internal struct StripRangeBuffer
{
    // Adjacent removals are coalesced, so 16 ranges cover far more than 16 stripped members in practice.
    public const int Capacity = 16;

    private long _element0;
}
