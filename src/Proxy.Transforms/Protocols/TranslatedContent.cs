using System.Net;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// The upstream edge of a translated provider: an upstream body that reads as the pipeline's own shape. Each read
/// takes what the upstream has sent and returns its translation (a stream event by event; a JSON answer once it is
/// complete), so the copier, the usage observer and the taps downstream see OpenAI chat as from any other deployment.
/// </summary>
public sealed class TranslatedContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly IResponseBodyTranslator _translator;

    public TranslatedContent(HttpContent inner, IResponseBodyTranslator translator)
    {
        _inner = inner;
        _translator = translator;
        foreach (var header in inner.Headers)
        {
            // The translation has another length.
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new TranslatingReadStream(await _inner.ReadAsStreamAsync(cancellationToken), _translator);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var source = await CreateContentReadStreamAsync(CancellationToken.None);
        await source.CopyToAsync(stream);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            (_translator as IDisposable)?.Dispose();
        }

        base.Dispose(disposing);
    }

    private sealed class TranslatingReadStream(Stream source, IResponseBodyTranslator translator) : Stream
    {
        private readonly byte[] _read = new byte[8192];
        private readonly ArrayPoolBufferWriter _pending = new();
        private int _pendingOffset;
        private bool _sourceDone;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var available = _pending.WrittenCount - _pendingOffset;
                if (available > 0)
                {
                    var take = Math.Min(available, buffer.Length);
                    _pending.WrittenMemory.Slice(_pendingOffset, take).CopyTo(buffer);
                    _pendingOffset += take;
                    if (_pendingOffset == _pending.WrittenCount)
                    {
                        _pending.ResetWrittenCount();
                        _pendingOffset = 0;
                    }

                    return take;
                }

                if (_sourceDone)
                {
                    return 0;
                }

                var read = await source.ReadAsync(_read, cancellationToken);
                if (read == 0)
                {
                    _sourceDone = true;
                    translator.Complete(_pending);
                    continue;
                }

                translator.Write(_read.AsSpan(0, read), _pending);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the translated body asynchronously.");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
                _pending.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await source.DisposeAsync();
            _pending.Dispose();
            await base.DisposeAsync();
        }
    }
}
