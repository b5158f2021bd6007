using System.Buffers;

namespace Proxy.Abstractions;

/// <summary>
/// The request's prompt as the engine's prefix cache sees it: a chain of block hashes, each one covering the blocks
/// before it, so that two prompts share the first <c>k</c> hashes exactly when they share their first <c>k</c> blocks.
/// Computed once per request, only when the prefix-cache-aware strategy is on, and kept as an HttpContext feature; the
/// strategy records its pick here for the feedback that follows the answer. Owns a pooled array: dispose it once.
/// </summary>
public sealed class PromptBlocks : IDisposable
{
    /// <summary>Bytes of prompt per block: ≈ 16 tokens at 4 bytes a token, vLLM's default block size.</summary>
    public const int BlockBytes = 64;

    private ulong[]? _hashes;

    public PromptBlocks(ulong[] pooledHashes, int count, int promptBytes, int conversationBlock = 0)
    {
        _hashes = pooledHashes;
        Count = count;
        PromptBytes = promptBytes;
        ConversationBlock = conversationBlock;
    }

    public int Count { get; }

    /// <summary>
    /// The first block that is all conversation, past the system prompt (instructions, developer messages): the same in
    /// every turn of a conversation and different between conversations that share a system prompt. 0 when the prompt
    /// has no system part.
    /// </summary>
    public int ConversationBlock { get; }

    /// <summary>Bytes the blocks cover (the last block may be partial).</summary>
    public int PromptBytes { get; }

    public ReadOnlySpan<ulong> Hashes => _hashes is null ? default : _hashes.AsSpan(0, Count);

    /// <summary>The deployment the last fleet-aware pick chose, and whose prefix index now holds these blocks.</summary>
    public Deployment? Picked { get; set; }

    /// <summary>Blocks the index predicted the picked deployment to hold when it was picked.</summary>
    public int PredictedBlocks { get; set; }

    /// <summary>The pick added blocks [InsertedFrom, Count) to the picked deployment's index (undone if that attempt fails).</summary>
    public int InsertedFrom { get; set; }

    /// <summary>Set by the feedback after the answer: the predicted cached prompt tokens, or -1 when nothing was compared.</summary>
    public int PredictedTokens { get; set; } = -1;

    public void Dispose()
    {
        var hashes = Interlocked.Exchange(ref _hashes, null);
        if (hashes is not null)
        {
            ArrayPool<ulong>.Shared.Return(hashes);
        }
    }
}
