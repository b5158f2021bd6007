using System.Buffers;
using System.IO.Hashing;
using Proxy.Abstractions;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Routing;

/// <summary>
/// Hashes a request's prompt into the block chain the prefix-cache-aware strategy routes by (<see cref="PromptBlocks"/>).
/// </summary>
/// <remarks>
/// The blocks are cut from the raw JSON of the prompt members the scanner already located (system / instructions, then
/// messages, prompt or input), continuously across members, every <see cref="PromptBlocks.BlockBytes"/> bytes; the
/// preamble (tools, response_format, cache_salt) seeds the chain, so a different tool list is a different chain, as it is
/// to the engine, which renders the tools first. Each hash covers its parent (XxHash3 seeded with the previous hash), as
/// vLLM's block hashes do, so two prompts share their first k hashes exactly when they share their first k blocks.
/// Hashing the bytes as sent rather than a re-rendered template keeps this to one cheap pass with no parsing: roles, names,
/// content parts and tool calls are all inside those bytes. A client that re-serialises earlier turns differently
/// (other key order or whitespace) loses the match; the SDKs do not.
/// </remarks>
public static class PromptBlockHasher
{
    private const ulong NoPreamble = 0x9E3779B97F4A7C15;

    /// <summary>The prompt's block chain, or null when the body has no prompt member.</summary>
    public static PromptBlocks? Compute(ReadOnlySpan<byte> body, in RequestScan scan)
    {
        var count = CountBlocks(scan, out var bytes);
        if (count == 0)
        {
            return null;
        }

        var hashes = ArrayPool<ulong>.Shared.Rent(count);
        var written = Hash(body, scan, hashes, out var conversationBlock);
        return new PromptBlocks(hashes, written, bytes, conversationBlock);
    }

    /// <summary>How many blocks <see cref="Hash"/> writes for this scan, and how many prompt bytes they cover.</summary>
    public static int CountBlocks(in RequestScan scan, out int promptBytes)
    {
        promptBytes = 0;
        for (var part = PromptPart.System; part <= PromptPart.Input; part++)
        {
            var range = scan.PromptRanges[(int)part];
            promptBytes += RequestScanner.RangeEnd(range) - RequestScanner.RangeStart(range);
        }

        return (promptBytes + PromptBlocks.BlockBytes - 1) / PromptBlocks.BlockBytes;
    }

    /// <summary>Writes the chain into <paramref name="destination"/> (at least <see cref="CountBlocks"/> long); allocates nothing.</summary>
    /// <param name="conversationBlock">See <see cref="PromptBlocks.ConversationBlock"/>.</param>
    public static int Hash(ReadOnlySpan<byte> body, in RequestScan scan, Span<ulong> destination, out int conversationBlock)
    {
        var parent = Preamble(body, scan);
        Span<byte> carry = stackalloc byte[PromptBlocks.BlockBytes];
        var carried = 0;
        var count = 0;
        var streamed = 0;
        var conversationStart = -1;
        for (var part = PromptPart.System; part <= PromptPart.Input; part++)
        {
            var range = scan.PromptRanges[(int)part];
            if (range == 0)
            {
                continue;
            }

            var start = RequestScanner.RangeStart(range);
            var end = RequestScanner.RangeEnd(range);
            if (conversationStart < 0 && part > PromptPart.Instructions)
            {
                // The conversation starts at its first user turn, or with this member when it has no system messages.
                conversationStart = streamed + (scan.FirstTurnOffset > start && scan.FirstTurnOffset < end ? scan.FirstTurnOffset - start : 0);
            }

            streamed += end - start;
            var text = body[start..end];
            if (carried > 0)
            {
                // The previous member ended mid-block: the block continues into this one, as the rendered prompt does.
                var take = Math.Min(PromptBlocks.BlockBytes - carried, text.Length);
                text[..take].CopyTo(carry[carried..]);
                carried += take;
                text = text[take..];
                if (carried < PromptBlocks.BlockBytes)
                {
                    continue;
                }

                parent = Next(parent, carry);
                destination[count++] = parent;
                carried = 0;
            }

            while (text.Length >= PromptBlocks.BlockBytes)
            {
                parent = Next(parent, text[..PromptBlocks.BlockBytes]);
                destination[count++] = parent;
                text = text[PromptBlocks.BlockBytes..];
            }

            text.CopyTo(carry);
            carried = text.Length;
        }

        if (carried > 0)
        {
            destination[count++] = Next(parent, carry[..carried]);
        }

        // Its first block that holds no system text: the one after the block the first turn starts in (0 when that is the
        // first block: no system prompt to speak of).
        conversationBlock = conversationStart < PromptBlocks.BlockBytes ? 0 : (conversationStart / PromptBlocks.BlockBytes) + 1;
        return count;
    }

    private static ulong Preamble(ReadOnlySpan<byte> body, in RequestScan scan)
    {
        var seed = NoPreamble;
        for (var part = PromptPart.Tools; part <= PromptPart.CacheSalt; part++)
        {
            var range = scan.PromptRanges[(int)part];
            if (range != 0)
            {
                // The part's number goes into the seed so that the same JSON as tools or as response_format differs.
                seed = XxHash3.HashToUInt64(body[RequestScanner.RangeStart(range)..RequestScanner.RangeEnd(range)], (long)(seed + (ulong)part + 1));
            }
        }

        return seed;
    }

    // 0 never appears, so that an index may use it for an empty slot.
    private static ulong Next(ulong parent, ReadOnlySpan<byte> block)
    {
        var hash = XxHash3.HashToUInt64(block, (long)parent);
        return hash == 0 ? 1 : hash;
    }
}
