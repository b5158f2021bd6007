using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Proxy.Transforms.Body;

/// <summary>
/// Result of one top-level pass over an OpenAI request body by <see cref="RequestScanner.Scan"/>.
/// </summary>
/// <remarks>
/// A mutable struct with public fields on purpose: it is filled in place through an <c>out</c> parameter on every
/// request, and holds no heap references other than <see cref="Model"/> and <see cref="MockResponse"/>, so a scan
/// costs no allocation beyond those strings. The byte ranges to strip live in inline storage; only
/// <see cref="BodySplicer"/> reads them. Pass it around with <c>in</c>: it is a few hundred bytes.
/// When a top-level member appears twice, the first occurrence wins for every field below and the splicer removes
/// the later duplicates of <c>model</c>, <c>stream</c> and <c>stream_options</c>, because the upstream (Python,
/// last key wins) must see the same values we routed on.
/// </remarks>
[SuppressMessage("Design", "CA1051:Do not declare visible instance fields", Justification = "Hot-path result struct filled in place; see remarks.")]
[SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "Never compared.")]
public struct RequestScan
{
    public ModelKind ModelKind;

    /// <summary>Decoded (unescaped) model when <see cref="ModelKind"/> is <see cref="ModelKind.String"/>.</summary>
    public string? Model;

    /// <summary>Byte offset of the model value token, including the opening quote of a string.</summary>
    public int ModelValueStart;

    /// <summary>Raw byte length of the model value token (both quotes, escapes as sent).</summary>
    public int ModelValueLength;

    /// <summary>Top-level <c>"stream": true</c>.</summary>
    public bool Stream;

    public bool HasStreamOptions;

    /// <summary><c>stream_options.include_usage == true</c>; the last <c>include_usage</c> inside it wins, as upstream reads it.</summary>
    public bool IncludeUsage;

    public int StreamOptionsValueStart;

    public int StreamOptionsValueLength;

    /// <summary>Top-level <c>mock_response</c> when it is a string.</summary>
    public string? MockResponse;

    public MockFlags MockFlags;

    /// <summary>Top-level <c>timeout</c> or <c>request_timeout</c> (whichever comes first), in seconds.</summary>
    public double? TimeoutSeconds;

    public int? NumRetries;

    public bool DisableFallbacks;

    /// <summary>Byte range of the first top-level <c>tags</c> value (length 0 when absent); read only by tag routing.</summary>
    public int TagsValueStart;

    public int TagsValueLength;

    /// <summary>Byte range of the first top-level <c>metadata</c> value (length 0 when absent).</summary>
    public int MetadataValueStart;

    public int MetadataValueLength;

    /// <summary>metadata.session_id (LiteLLM's session id in the body) when it is a string of at most 256 characters.</summary>
    public string? SessionId;

    /// <summary>Top-level <c>previous_response_id</c> when it is a string (Responses API); the first one wins.</summary>
    public string? PreviousResponseId;

    /// <summary>Byte offset and raw length of the <c>previous_response_id</c> value token, quotes included.</summary>
    public int PreviousResponseIdValueStart;

    public int PreviousResponseIdValueLength;

    /// <summary>Number of top-level members the splicer will remove (LiteLLM-only fields and duplicates).</summary>
    public int StripCount;

    /// <summary>Body offset of the first message that is not a system or developer message (messages / input arrays); 0 = none.</summary>
    public int FirstTurnOffset;

    // Where the prompt's members are, for the prefix-cache block hashes (first occurrence of each wins).
    internal PromptRangeBuffer PromptRanges;

    // Everything below is for BodySplicer only.
    internal StripRangeBuffer StripRanges;

    // All ranges found, which may exceed what StripRanges holds.
    internal int StripRangeCount;

    // More separate ranges than StripRangeBuffer holds: the splicer re-scans into a pooled array instead.
    internal bool StripOverflow;

    // Offset of the top-level closing brace; appended members go just before it. 0 means "not a successful scan".
    internal int ObjectEnd;
    internal int KeptMembers;

    [UnscopedRef]
    internal Span<long> StripRangeStorage => StripRanges;

    [UnscopedRef]
    internal readonly ReadOnlySpan<long> RecordedStripRanges =>
        MemoryMarshal.CreateReadOnlySpan(in StripRanges[0], Math.Min(StripRangeCount, StripRangeBuffer.Capacity));
}
