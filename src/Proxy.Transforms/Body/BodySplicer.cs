using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Proxy.Transforms.Body;

/// <summary>
/// Builds the upstream body from the client's bytes and a <see cref="RequestScan"/>: copies the runs between edits
/// and writes only the edited values, so the prompt is copied once and never re-serialised.
/// </summary>
public static class BodySplicer
{
    private static readonly byte[] IncludeUsageObject = "{\"include_usage\":true}"u8.ToArray();
    private static readonly byte[] StreamOptionsMember = "\"stream_options\":{\"include_usage\":true}"u8.ToArray();

    /// <summary>
    /// Writes the forwarded body into a pooled buffer (the caller disposes it): <c>model</c> replaced by
    /// <paramref name="newModel"/> (null, or equal to the client's decoded value, keeps the client's bytes; added when
    /// missing), LiteLLM-only members and duplicates removed, and with <paramref name="forceIncludeUsage"/> on a
    /// streaming request, <c>stream_options.include_usage</c> made true while keeping its other members.
    /// </summary>
    /// <param name="body">The exact bytes that produced <paramref name="scan"/>.</param>
    /// <param name="scan">A scan that returned <see cref="ScanStatus.Ok"/>.</param>
    public static PooledBuffer Splice(ReadOnlySpan<byte> body, in RequestScan scan, string? newModel, bool forceIncludeUsage)
    {
        if (scan.ObjectEnd <= 0 || scan.ObjectEnd >= body.Length)
        {
            ThrowNotScanned();
        }

        if (!scan.StripOverflow)
        {
            return Write(body, in scan, scan.RecordedStripRanges, newModel, forceIncludeUsage);
        }

        // Rare: too many separate ranges for the inline storage. Re-scan into a pooled array; still one copy.
        var rented = ArrayPool<long>.Shared.Rent(scan.StripRangeCount);
        try
        {
            var count = RequestScanner.CollectStripRanges(body, rented);
            return Write(body, in scan, rented.AsSpan(0, count), newModel, forceIncludeUsage);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(rented);
        }
    }

    /// <summary>True when <see cref="Splice"/> would return the input unchanged, so the caller can forward it as is.</summary>
    public static bool IsIdentity(in RequestScan scan, ReadOnlySpan<byte> body, string? newModel, bool forceIncludeUsage)
    {
        Debug.Assert(scan.ObjectEnd < body.Length, "The scan must come from this body.");
        return scan.StripCount == 0 && !ChangesModel(in scan, newModel) && !ForcesUsage(in scan, forceIncludeUsage);
    }

    private static bool ChangesModel(in RequestScan scan, string? newModel) =>
        newModel is not null && !(scan.ModelKind == ModelKind.String && string.Equals(newModel, scan.Model, StringComparison.Ordinal));

    private static bool ForcesUsage(in RequestScan scan, bool forceIncludeUsage) =>
        forceIncludeUsage && scan.Stream && !scan.IncludeUsage;

    private static PooledBuffer Write(ReadOnlySpan<byte> body, in RequestScan scan, ReadOnlySpan<long> strips, string? newModel, bool forceIncludeUsage)
    {
        var changeModel = ChangesModel(in scan, newModel);
        var replaceModel = changeModel && scan.ModelKind != ModelKind.Missing;
        var appendModel = changeModel && scan.ModelKind == ModelKind.Missing;
        var forceUsage = ForcesUsage(in scan, forceIncludeUsage);
        var replaceStreamOptions = forceUsage && scan.HasStreamOptions;
        var appendStreamOptions = forceUsage && !scan.HasStreamOptions;

        var capacity = body.Length;
        if (changeModel)
        {
            capacity += JsonStringEscaper.MaxQuotedLength(newModel!) + "\"model\":,".Length;
        }

        if (forceUsage)
        {
            // A rebuilt stream_options is at most the old value plus the include_usage member and a comma.
            capacity += scan.StreamOptionsValueLength + StreamOptionsMember.Length + 2;
        }

        var array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 1));
        var output = array.AsSpan();
        var written = 0;
        var cursor = 0;
        var stripIndex = 0;
        while (true)
        {
            // Apply the edits in body order; strips are recorded in order, the two replacements are single ranges.
            var nextStrip = stripIndex < strips.Length ? RequestScanner.RangeStart(strips[stripIndex]) : int.MaxValue;
            if (replaceModel && scan.ModelValueStart < nextStrip
                && (!replaceStreamOptions || scan.ModelValueStart < scan.StreamOptionsValueStart))
            {
                written += Copy(body[cursor..scan.ModelValueStart], output[written..]);
                written += JsonStringEscaper.WriteQuoted(newModel!, output[written..]);
                cursor = scan.ModelValueStart + scan.ModelValueLength;
                replaceModel = false;
            }
            else if (replaceStreamOptions && scan.StreamOptionsValueStart < nextStrip)
            {
                written += Copy(body[cursor..scan.StreamOptionsValueStart], output[written..]);
                var value = body.Slice(scan.StreamOptionsValueStart, scan.StreamOptionsValueLength);
                written += WriteStreamOptions(value, output[written..]);
                cursor = scan.StreamOptionsValueStart + scan.StreamOptionsValueLength;
                replaceStreamOptions = false;
            }
            else if (nextStrip != int.MaxValue)
            {
                written += Copy(body[cursor..nextStrip], output[written..]);
                cursor = RequestScanner.RangeEnd(strips[stripIndex]);
                stripIndex++;
            }
            else
            {
                break;
            }
        }

        written += Copy(body[cursor..scan.ObjectEnd], output[written..]);
        var members = scan.KeptMembers;
        if (appendModel)
        {
            written += WriteSeparator(members++, output[written..]);
            written += Copy("\"model\":"u8, output[written..]);
            written += JsonStringEscaper.WriteQuoted(newModel!, output[written..]);
        }

        if (appendStreamOptions)
        {
            written += WriteSeparator(members, output[written..]);
            written += Copy(StreamOptionsMember, output[written..]);
        }

        written += Copy(body[scan.ObjectEnd..], output[written..]);
        return new PooledBuffer(array, written);
    }

    private static int WriteSeparator(int membersBefore, Span<byte> destination)
    {
        if (membersBefore == 0)
        {
            return 0;
        }

        destination[0] = (byte)',';
        return 1;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    /// <summary>
    /// Rewrites a stream_options value as <c>{"include_usage":true, ...its other members}</c>. A value that is not an
    /// object carries nothing worth keeping.
    /// </summary>
    private static int WriteStreamOptions(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var written = Copy(IncludeUsageObject.AsSpan(0, IncludeUsageObject.Length - 1), destination);
        // The scan already validated this value, so the reader cannot throw here.
        var reader = new Utf8JsonReader(value, RequestScanner.ReaderOptions);
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var memberStart = (int)reader.TokenStartIndex;
                var isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
                reader.Read();
                reader.Skip();
                if (!isIncludeUsage)
                {
                    destination[written++] = (byte)',';
                    written += Copy(value[memberStart..(int)reader.BytesConsumed], destination[written..]);
                }
            }
        }

        destination[written++] = (byte)'}';
        return written;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotScanned() =>
        throw new ArgumentException("Splice needs a successful scan of this body.", "scan");
}
