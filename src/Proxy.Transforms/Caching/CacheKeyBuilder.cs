using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Caching;

/// <summary>
/// LiteLLM's cache key: a SHA-256 over the model group and the request's parameters, as hex, prefixed with
/// <c>namespace:</c> when one is set. One pass over the body with <see cref="Utf8JsonReader"/> writes a canonical form
/// (object members sorted, strings unescaped, no whitespace) into a pooled buffer, so the same request with its keys in
/// another order gets the same key.
/// </summary>
/// <remarks>
/// LiteLLM hashes only OpenAI-spec parameters; we hash every parameter that is forwarded upstream, because vLLM's
/// extras (<c>top_k</c>, <c>chat_template_kwargs</c>, <c>guided_json</c>, ...) change the answer too. LiteLLM-only
/// fields (<c>cache</c>, <c>metadata</c>, <c>num_retries</c>, ...) and <c>stream</c>/<c>stream_options</c> are left out:
/// a streamed and a non-streamed request share one entry.
/// </remarks>
public static class CacheKeyBuilder
{
    private const int MaxSortedMembers = 4096;

    /// <summary>Computes the key and fills <paramref name="control"/> from the body's <c>cache</c> object.</summary>
    /// <returns>The key, or null when the body cannot be keyed (not valid JSON: it was rejected before, so never here).</returns>
    public static string? Build(ReadOnlySpan<byte> body, OpenAiEndpoint endpoint, string modelGroup, string? defaultNamespace, ref CacheControl control) =>
        Build(body, endpoint, modelGroup, defaultNamespace, scope: null, ref control);

    /// <param name="scope">Who may share the entry (<c>cache_params.scope</c>): a key or team identity hashed in, or null for everyone.</param>
    public static string? Build(
        ReadOnlySpan<byte> body, OpenAiEndpoint endpoint, string modelGroup, string? defaultNamespace, string? scope, ref CacheControl control)
    {
        var buffer = new CanonicalBuffer(body.Length + 64);
        var members = new MemberStack();
        try
        {
            buffer.AppendPrefixed((byte)'e', EndpointName(endpoint));
            Span<byte> group = stackalloc byte[256];
            if (Encoding.UTF8.GetByteCount(modelGroup) <= group.Length)
            {
                var written = Encoding.UTF8.GetBytes(modelGroup, group);
                buffer.AppendPrefixed((byte)'m', group[..written]);
            }
            else
            {
                buffer.AppendPrefixed((byte)'m', Encoding.UTF8.GetBytes(modelGroup));
            }

            if (scope is not null)
            {
                buffer.AppendPrefixed((byte)'s', Encoding.UTF8.GetBytes(scope));
            }

            var reader = new Utf8JsonReader(body, RequestScanner.ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            WriteObject(ref reader, ref buffer, ref members, topLevel: true, ref control);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.WrittenSpan, hash);
            var hex = Convert.ToHexStringLower(hash);
            var ns = control.Namespace ?? defaultNamespace;
            return string.IsNullOrEmpty(ns) ? hex : ns + ":" + hex;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        finally
        {
            members.Dispose();
            buffer.Dispose();
        }
    }

    /// <summary>The header form (a gateway extension): <c>Cache-Control: no-cache | no-store | max-age=N | s-maxage=N</c>.</summary>
    public static void ApplyHeader(IHeaderDictionary headers, ref CacheControl control)
    {
        if (control.FromBody || !headers.TryGetValue("Cache-Control", out var values))
        {
            return;
        }

        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                var directive = value.AsSpan(range).Trim();
                if (directive.Equals("no-cache", StringComparison.OrdinalIgnoreCase))
                {
                    control.NoCache = true;
                }
                else if (directive.Equals("no-store", StringComparison.OrdinalIgnoreCase))
                {
                    control.NoStore = true;
                }
                else if (TryDirectiveSeconds(directive, "s-maxage=", out var seconds) || TryDirectiveSeconds(directive, "max-age=", out seconds))
                {
                    control.MaxAge = seconds;
                }
            }
        }
    }

    private static bool TryDirectiveSeconds(ReadOnlySpan<char> directive, string prefix, out double seconds)
    {
        seconds = 0;
        return directive.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && double.TryParse(directive[prefix.Length..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out seconds)
            && seconds >= 0;
    }

    private static ReadOnlySpan<byte> EndpointName(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "chat"u8,
        OpenAiEndpoint.Completions => "completions"u8,
        OpenAiEndpoint.Embeddings => "embeddings"u8,
        _ => "other"u8,
    };

    private static void WriteValue(ref Utf8JsonReader reader, ref CanonicalBuffer buffer, ref MemberStack members)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var ignored = default(CacheControl);
                WriteObject(ref reader, ref buffer, ref members, topLevel: false, ref ignored);
                break;
            case JsonTokenType.StartArray:
                buffer.Append((byte)'[');
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    WriteValue(ref reader, ref buffer, ref members);
                }

                buffer.Append((byte)']');
                break;
            case JsonTokenType.String:
                WriteString(ref reader, ref buffer, (byte)'s');
                break;
            case JsonTokenType.Number:
                buffer.AppendPrefixed((byte)'n', reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                break;
            case JsonTokenType.True:
                buffer.Append((byte)'t');
                break;
            case JsonTokenType.False:
                buffer.Append((byte)'f');
                break;
            default:
                buffer.Append((byte)'z');
                break;
        }
    }

    // Members are written as they come; if their names are out of order the member segments are rearranged in place.
    private static void WriteObject(ref Utf8JsonReader reader, ref CanonicalBuffer buffer, ref MemberStack members, bool topLevel, ref CacheControl control)
    {
        buffer.Append((byte)'{');
        var baseIndex = members.Count;
        var regionStart = buffer.Length;
        var sorted = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var segmentStart = buffer.Length;
            WriteString(ref reader, ref buffer, (byte)'k');
            var nameLength = buffer.Length - segmentStart - 5;
            if (topLevel && SkipTopLevel(ref reader, ref buffer, segmentStart, nameLength, ref control))
            {
                buffer.Truncate(segmentStart);
                continue;
            }

            reader.Read();
            WriteValue(ref reader, ref buffer, ref members);
            var member = new Member(segmentStart, nameLength, buffer.Length);
            if (members.Count > baseIndex && Compare(buffer.WrittenSpan, members[members.Count - 1], member) > 0)
            {
                sorted = false;
            }

            members.Push(member);
        }

        if (!sorted)
        {
            Reorder(ref buffer, ref members, baseIndex, regionStart);
        }

        members.Pop(baseIndex);
        buffer.Append((byte)'}');
    }

    // True when the member is left out of the key; its value has then been consumed.
    private static bool SkipTopLevel(ref Utf8JsonReader reader, ref CanonicalBuffer buffer, int segmentStart, int nameLength, ref CacheControl control)
    {
        var name = buffer.WrittenSpan.Slice(segmentStart + 5, nameLength);
        if (name.SequenceEqual("cache"u8))
        {
            reader.Read();
            ReadControls(ref reader, ref control);
            return true;
        }

        var kind = MemberNames.Classify(name);
        if (kind is MemberKind.Model or MemberKind.Stream or MemberKind.StreamOptions or MemberKind.Strip or MemberKind.Metadata or MemberKind.Timeout
            or MemberKind.NumRetries or MemberKind.DisableFallbacks)
        {
            reader.Read();
            reader.Skip();
            return true;
        }

        return false;
    }

    private static void ReadControls(ref Utf8JsonReader reader, ref CacheControl control)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        control.FromBody = true;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("no-cache"u8))
            {
                reader.Read();
                control.NoCache = IsTrue(ref reader);
            }
            else if (reader.ValueTextEquals("no-store"u8))
            {
                reader.Read();
                control.NoStore = IsTrue(ref reader);
            }
            else if (reader.ValueTextEquals("use-cache"u8))
            {
                reader.Read();
                control.UseCache = IsTrue(ref reader);
            }
            else if (reader.ValueTextEquals("ttl"u8))
            {
                reader.Read();
                control.Ttl = Seconds(ref reader) ?? control.Ttl;
            }
            else if (reader.ValueTextEquals("s-maxage"u8) || reader.ValueTextEquals("s-max-age"u8))
            {
                reader.Read();
                control.MaxAge = Seconds(ref reader) ?? control.MaxAge;
            }
            else if (reader.ValueTextEquals("namespace"u8))
            {
                reader.Read();
                control.Namespace = reader.TokenType == JsonTokenType.String ? reader.GetString() : control.Namespace;
            }
            else
            {
                reader.Read();
            }

            reader.Skip();
        }
    }

    private static bool IsTrue(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.True
        || (reader.TokenType == JsonTokenType.String && (reader.ValueTextEquals("true"u8) || reader.ValueTextEquals("True"u8)));

    private static double? Seconds(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number) && number >= 0)
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && Utf8Parser.TryParse(reader.ValueSpan, out double parsed, out var consumed)
            && consumed == reader.ValueSpan.Length && parsed >= 0)
        {
            return parsed;
        }

        return null;
    }

    private static void WriteString(ref Utf8JsonReader reader, ref CanonicalBuffer buffer, byte tag)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            buffer.AppendPrefixed(tag, reader.ValueSpan);
            return;
        }

        // Unescaped text is never longer than its escaped form.
        var max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var span = buffer.GetSpan(5 + max);
        var written = reader.CopyString(span[5..]);
        span[0] = tag;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(span[1..], written);
        buffer.Advance(5 + written);
    }

    private static int Compare(ReadOnlySpan<byte> written, Member a, Member b) =>
        written.Slice(a.Start + 5, a.NameLength).SequenceCompareTo(written.Slice(b.Start + 5, b.NameLength));

    private static void Reorder(ref CanonicalBuffer buffer, ref MemberStack members, int baseIndex, int regionStart)
    {
        var count = members.Count - baseIndex;
        if (count > MaxSortedMembers)
        {
            throw new JsonException("too many members in one object to key");
        }

        var written = buffer.WrittenSpan;
        var list = members.Slice(baseIndex, count);
        // Insertion sort: objects in requests have a handful of members, usually almost in order.
        for (var i = 1; i < list.Length; i++)
        {
            var current = list[i];
            var j = i - 1;
            while (j >= 0 && Compare(written, list[j], current) > 0)
            {
                list[j + 1] = list[j];
                j--;
            }

            list[j + 1] = current;
        }

        var regionLength = buffer.Length - regionStart;
        var copy = ArrayPool<byte>.Shared.Rent(regionLength);
        try
        {
            written.Slice(regionStart, regionLength).CopyTo(copy);
            var target = regionStart;
            foreach (var member in list)
            {
                var length = member.End - member.Start;
                copy.AsSpan(member.Start - regionStart, length).CopyTo(written[target..]);
                target += length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private readonly record struct Member(int Start, int NameLength, int End);

    // One pooled stack of member records shared by every nesting level.
    private struct MemberStack : IDisposable
    {
        private Member[]? _items;

        public int Count { get; private set; }

        public readonly Member this[int index] => _items![index];

        public void Push(Member member)
        {
            if (_items is null || Count == _items.Length)
            {
                var next = ArrayPool<Member>.Shared.Rent(Math.Max(32, Count * 2));
                _items?.AsSpan(0, Count).CopyTo(next);
                if (_items is not null)
                {
                    ArrayPool<Member>.Shared.Return(_items);
                }

                _items = next;
            }

            _items[Count++] = member;
        }

        public void Pop(int count) => Count = count;

        public readonly Span<Member> Slice(int start, int length) => _items.AsSpan(start, length);

        public void Dispose()
        {
            if (_items is not null)
            {
                ArrayPool<Member>.Shared.Return(_items);
                _items = null;
            }
        }
    }
}
