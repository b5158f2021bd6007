using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Proxy.Transforms.Body;

/// <summary>
/// One pass over the top level of an OpenAI request body: reads only the members routing needs and skips every
/// other value without materialising it (the prompt is most of the bytes, and SDKs send <c>model</c> after it).
/// </summary>
public static class RequestScanner
{
    internal static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 256,
    };

    // Escaped names longer than this are unescaped into a rented buffer instead of the stack.
    private const int StackNameBytes = 256;

    /// <summary>Scans <paramref name="body"/>; never throws. Only an <see cref="ScanStatus.Ok"/> scan may be spliced.</summary>
    public static ScanStatus Scan(ReadOnlySpan<byte> body, out RequestScan scan)
    {
        scan = default;
        var status = ScanCore(body, ref scan, scan.StripRangeStorage, out var rangeCount);
        scan.StripRangeCount = rangeCount;
        scan.StripOverflow = rangeCount > StripRangeBuffer.Capacity;
        if (status != ScanStatus.Ok)
        {
            scan = default;
        }

        return status;
    }

    /// <summary>
    /// Slow path for bodies with more separate strip ranges than <see cref="StripRangeBuffer"/> holds: scans again
    /// into caller storage sized from the first scan's <see cref="RequestScan.StripRangeCount"/>.
    /// </summary>
    internal static int CollectStripRanges(ReadOnlySpan<byte> body, Span<long> ranges)
    {
        var scratch = default(RequestScan);
        var status = ScanCore(body, ref scratch, ranges, out var count);
        if (status != ScanStatus.Ok || count > ranges.Length)
        {
            ThrowBodyChanged();
        }

        return count;
    }

    internal static long Pack(int start, int end) => ((long)start << 32) | (uint)end;

    internal static int RangeStart(long range) => (int)(range >> 32);

    internal static int RangeEnd(long range) => (int)(uint)range;

    private static ScanStatus ScanCore(ReadOnlySpan<byte> body, ref RequestScan scan, Span<long> ranges, out int rangeCount)
    {
        rangeCount = 0;
        try
        {
            return ScanObject(body, ref scan, ranges, ref rangeCount);
        }
        catch (JsonException)
        {
            // The one boundary where malformed input (including depth overflow) turns into a status.
            return ScanStatus.InvalidJson;
        }
        catch (InvalidOperationException)
        {
            // GetString throws this, not JsonException, for a string that is not valid UTF-8.
            return ScanStatus.InvalidJson;
        }
    }

    private static ScanStatus ScanObject(ReadOnlySpan<byte> body, ref RequestScan scan, Span<long> ranges, ref int rangeCount)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read())
        {
            return ScanStatus.InvalidJson;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            // Validate the rest so that garbage is still reported as garbage.
            reader.Skip();
            return reader.Read() ? ScanStatus.InvalidJson : ScanStatus.NotAnObject;
        }

        var prevValueEnd = -1;
        var seenModel = false;
        var seenStream = false;
        var seenPrompts = 0;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                scan.ObjectEnd = (int)reader.TokenStartIndex;
                // Anything after the closing brace other than whitespace makes Read throw.
                return reader.Read() ? ScanStatus.InvalidJson : ScanStatus.Ok;
            }

            var nameStart = (int)reader.TokenStartIndex;
            var kind = ClassifyName(ref reader);
            reader.Read();
            var strip = true;
            switch (kind)
            {
                case MemberKind.Other:
                    strip = false;
                    reader.Skip();
                    break;
                case MemberKind.PreviousResponseId:
                    strip = false;
                    if (scan.PreviousResponseId is null && reader.TokenType == JsonTokenType.String)
                    {
                        scan.PreviousResponseIdValueStart = (int)reader.TokenStartIndex;
                        scan.PreviousResponseId = reader.GetString();
                        scan.PreviousResponseIdValueLength = (int)reader.BytesConsumed - scan.PreviousResponseIdValueStart;
                    }

                    reader.Skip();
                    break;
                case MemberKind.Messages or MemberKind.Prompt or MemberKind.Input:
                    // Two copies of the prompt: Python keeps the last, a reader that stops early the first. A guardrail
                    // and the upstream must read the same one, so the body is refused.
                    var bit = 1 << (kind - MemberKind.Messages);
                    if ((seenPrompts & bit) != 0)
                    {
                        return ScanStatus.DuplicatePrompt;
                    }

                    seenPrompts |= bit;
                    strip = false;
                    SkipPromptPart(ref reader, ref scan, (PromptPart)(kind - MemberKind.Tools));
                    break;
                case >= MemberKind.Tools and <= MemberKind.Instructions:
                    strip = false;
                    SkipPromptPart(ref reader, ref scan, (PromptPart)(kind - MemberKind.Tools));
                    break;
                case MemberKind.Model:
                    strip = seenModel;
                    if (!seenModel)
                    {
                        seenModel = true;
                        ReadModel(ref reader, ref scan);
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case MemberKind.Stream:
                    strip = seenStream;
                    if (!seenStream)
                    {
                        seenStream = true;
                        scan.Stream = reader.TokenType == JsonTokenType.True;
                    }

                    reader.Skip();

                    break;
                case MemberKind.StreamOptions:
                    strip = scan.HasStreamOptions;
                    if (!scan.HasStreamOptions)
                    {
                        ReadStreamOptions(ref reader, ref scan);
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case MemberKind.Tags:
                    RecordRange(ref reader, ref scan.TagsValueStart, ref scan.TagsValueLength);
                    break;
                case MemberKind.Metadata:
                {
                    var at = (int)reader.TokenStartIndex;
                    ReadMetadata(ref reader, ref scan);
                    // On the value's last token now (its EndObject), or still on its first when it is not an object.
                    reader.Skip();
                    if (scan.MetadataValueLength == 0)
                    {
                        scan.MetadataValueStart = at;
                        scan.MetadataValueLength = (int)reader.BytesConsumed - at;
                    }

                    break;
                }
                default:
                    ReadLiteLlmField(ref reader, ref scan, kind);
                    break;
            }

            var valueEnd = (int)reader.BytesConsumed;
            if (strip)
            {
                scan.StripCount++;
                // Cut the comma before the member; the first member has none, and its trailing comma goes with
                // the first kept member that follows (below).
                AddRange(ranges, ref rangeCount, prevValueEnd < 0 ? nameStart : prevValueEnd, valueEnd);
            }
            else
            {
                if (scan.KeptMembers == 0 && prevValueEnd >= 0)
                {
                    // Everything before this member was stripped: drop the comma that now leads the object,
                    // but keep the whitespace after it.
                    var comma = body[prevValueEnd..nameStart].IndexOf((byte)',');
                    AddRange(ranges, ref rangeCount, prevValueEnd, prevValueEnd + comma + 1);
                }

                scan.KeptMembers++;
            }

            prevValueEnd = valueEnd;
        }

        return ScanStatus.InvalidJson;
    }

    private static void AddRange(Span<long> ranges, ref int count, int start, int end)
    {
        // Neighbouring removals touch; merging them keeps the inline storage enough for most bodies.
        if (count > 0 && count <= ranges.Length && RangeEnd(ranges[count - 1]) == start)
        {
            ranges[count - 1] = Pack(RangeStart(ranges[count - 1]), end);
            return;
        }

        if (count < ranges.Length)
        {
            ranges[count] = Pack(start, end);
        }

        // Past capacity we keep counting so the caller knows to take the slow path.
        count++;
    }

    private static MemberKind ClassifyName(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return MemberNames.Classify(reader.ValueSpan);
        }

        // Escapes must not smuggle a LiteLLM-only field ("api_\u006bey") past the strip list.
        var length = reader.ValueSpan.Length;
        if (length <= StackNameBytes)
        {
            Span<byte> buffer = stackalloc byte[StackNameBytes];
            var written = reader.CopyString(buffer);
            return MemberNames.Classify(buffer[..written]);
        }

        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = reader.CopyString(rented);
            return MemberNames.Classify(rented.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void ReadModel(ref Utf8JsonReader reader, ref RequestScan scan)
    {
        scan.ModelValueStart = (int)reader.TokenStartIndex;
        if (reader.TokenType == JsonTokenType.String)
        {
            scan.ModelKind = ModelKind.String;
            scan.Model = reader.GetString();
        }
        else
        {
            scan.ModelKind = ModelKind.NotString;
            reader.Skip();
        }

        scan.ModelValueLength = (int)reader.BytesConsumed - scan.ModelValueStart;
    }

    // Only the position is kept: the value is read (rarely) by tag routing, never on the common path.
    private static void RecordRange(ref Utf8JsonReader reader, ref int start, ref int length)
    {
        var at = (int)reader.TokenStartIndex;
        reader.Skip();
        if (length == 0)
        {
            start = at;
            length = (int)reader.BytesConsumed - at;
        }
    }

    private static void ReadStreamOptions(ref Utf8JsonReader reader, ref RequestScan scan)
    {
        scan.HasStreamOptions = true;
        scan.StreamOptionsValueStart = (int)reader.TokenStartIndex;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var depth = reader.CurrentDepth;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                // Property names of stream_options sit one level deeper than its StartObject.
                var isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
                reader.Read();
                if (isIncludeUsage)
                {
                    scan.IncludeUsage = reader.TokenType == JsonTokenType.True;
                }

                reader.Skip();
            }
        }
        else
        {
            reader.Skip();
        }

        scan.StreamOptionsValueLength = (int)reader.BytesConsumed - scan.StreamOptionsValueStart;
    }

    private static void SkipPromptPart(ref Utf8JsonReader reader, ref RequestScan scan, PromptPart part)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType == JsonTokenType.StartArray && part is PromptPart.Messages or PromptPart.Input)
        {
            SkipMessages(ref reader, ref scan);
        }
        else
        {
            reader.Skip();
        }

        ref var range = ref scan.PromptRanges[(int)part];
        if (range == 0)
        {
            range = Pack(start, (int)reader.BytesConsumed);
        }
    }

    /// <summary>
    /// Skips a messages (or Responses input) array the way Skip would, noting where the conversation proper starts: the
    /// first element that is not a system or developer message. Reads the same tokens Skip reads, so it costs the same.
    /// </summary>
    private static void SkipMessages(ref Utf8JsonReader reader, ref RequestScan scan)
    {
        var depth = reader.CurrentDepth;
        var found = scan.FirstTurnOffset > 0;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (found)
            {
                reader.Skip();
                continue;
            }

            var elementStart = (int)reader.TokenStartIndex;
            if (!IsSystemMessage(ref reader))
            {
                scan.FirstTurnOffset = elementStart;
                found = true;
            }
        }
    }

    /// <summary>Reads one array element to its end; true when it is an object whose role is system or developer.</summary>
    private static bool IsSystemMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var depth = reader.CurrentDepth;
        var system = false;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            var isRole = reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("role"u8);
            reader.Read();
            if (isRole && reader.TokenType == JsonTokenType.String)
            {
                system = reader.ValueTextEquals("system"u8) || reader.ValueTextEquals("developer"u8);
            }

            reader.Skip();
        }

        return system;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, ref RequestScan scan)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            var isSessionId = reader.ValueTextEquals("session_id"u8);
            reader.Read();
            // Bounded: a session id is a map key for as long as its pin lives.
            if (isSessionId && scan.SessionId is null && reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= 256)
            {
                scan.SessionId = reader.GetString();
            }

            reader.Skip();
        }
    }

    private static void ReadLiteLlmField(ref Utf8JsonReader reader, ref RequestScan scan, MemberKind kind)
    {
        switch (kind)
        {
            case MemberKind.MockResponse:
                if (scan.MockResponse is null && reader.TokenType == JsonTokenType.String)
                {
                    scan.MockResponse = reader.GetString();
                }

                break;
            case MemberKind.MockTestingFallbacks:
                SetFlagIfTrue(ref reader, ref scan, MockFlags.TestingFallbacks);
                break;
            case MemberKind.MockTestingRateLimitError:
                SetFlagIfTrue(ref reader, ref scan, MockFlags.TestingRateLimitError);
                break;
            case MemberKind.MockTestingContextWindowFallbacks:
                SetFlagIfTrue(ref reader, ref scan, MockFlags.TestingContextWindowFallbacks);
                break;
            case MemberKind.MockTestingContentPolicyFallbacks:
                SetFlagIfTrue(ref reader, ref scan, MockFlags.TestingContentPolicyFallbacks);
                break;
            case MemberKind.MockTimeout:
                SetFlagIfTrue(ref reader, ref scan, MockFlags.Timeout);
                break;
            case MemberKind.Timeout:
                if (scan.TimeoutSeconds is null && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var seconds))
                {
                    scan.TimeoutSeconds = seconds;
                }

                break;
            case MemberKind.NumRetries:
                if (scan.NumRetries is null && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var retries))
                {
                    scan.NumRetries = retries;
                }

                break;
            case MemberKind.DisableFallbacks:
                scan.DisableFallbacks |= reader.TokenType == JsonTokenType.True;
                break;
            default:
                break;
        }

        reader.Skip();
    }

    private static void SetFlagIfTrue(ref Utf8JsonReader reader, ref RequestScan scan, MockFlags flag)
    {
        // LiteLLM reads these from form-ish clients too, so the strings "true"/"True" count.
        var isTrue = reader.TokenType == JsonTokenType.True
            || (reader.TokenType == JsonTokenType.String && (reader.ValueTextEquals("true"u8) || reader.ValueTextEquals("True"u8)));
        if (isTrue)
        {
            scan.MockFlags |= flag;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBodyChanged() =>
        throw new ArgumentException("The body no longer matches its scan.", "body");
}
