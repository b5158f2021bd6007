using System.Diagnostics.CodeAnalysis;

namespace Proxy.Transforms.Caching.Semantic.Index;

/// <summary>One vector's entry in a <see cref="ScopeIndex"/>: which cache entry it stands for, until when, and its graph links.</summary>
[SuppressMessage("Design", "CA1051:Do not declare visible instance fields", Justification = "Written by the one writer and read lock-free; Interlocked needs fields.")]
internal sealed class IndexRow(string entryId, long expiresAtMs, int level, int[][] neighbors, float[][] similarities)
{
    public string EntryId { get; } = entryId;

    /// <summary>Unix milliseconds; <see cref="long.MaxValue"/> when the entry never expires. A re-stored entry moves it.</summary>
    public long ExpiresAtMs = expiresAtMs;

    /// <summary>1 once removed: the row still routes graph searches but is never a result.</summary>
    public int Dead;

    public int Level { get; } = level;

    /// <summary>Neighbour rows per graph level; each array is immutable once published and replaced whole.</summary>
    public int[][] Neighbors { get; } = neighbors;

    /// <summary>The similarity of each neighbour (writer only: lets a full list drop its weakest link without recomputing).</summary>
    public float[][] Similarities { get; } = similarities;
}
