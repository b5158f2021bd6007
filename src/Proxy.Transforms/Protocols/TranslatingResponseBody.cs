using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// The client edge of a translated protocol: stands in for the response body while the pipeline writes answers in its
/// own (OpenAI chat) shape, whoever writes them (the upstream copier, a cached answer, a mock), and hands the client
/// the protocol's shape. A stream is translated piece by piece and flushed as the pipeline flushes it; a JSON answer is
/// held until the pipeline is done with it, then translated whole. Errors (status 400 and above, written by the
/// protocol-aware error writer) and answers a native deployment gave in the client's protocol pass through untouched.
/// </summary>
public sealed class TranslatingResponseBody : PipeWriter, IHttpResponseBodyFeature
{
    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _inner;
    private readonly GatewayRequestContext _request;
    private readonly Func<bool, IResponseBodyTranslator> _createTranslator;
    private readonly ArrayPoolBufferWriter _scratch = new();
    private Stream? _stream;
    private IResponseBodyTranslator? _translator;
    private Mode _mode;
    private bool _completed;

    private TranslatingResponseBody(HttpContext context, GatewayRequestContext request, Func<bool, IResponseBodyTranslator> createTranslator)
    {
        _context = context;
        _request = request;
        _inner = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        _createTranslator = createTranslator;
    }

    private enum Mode
    {
        Undecided,
        Stream,
        Json,
        PassThrough,
    }

    /// <summary>Whether the translator turned this response into something else (false: nothing was written yet, or it passed through).</summary>
    public bool Translated => _mode is Mode.Stream or Mode.Json;

    Stream IHttpResponseBodyFeature.Stream => _stream ??= AsStream(leaveOpen: true);

    PipeWriter IHttpResponseBodyFeature.Writer => this;

    /// <summary>Puts the translating body in place of the response body; <see cref="FinishAsync"/> takes it out again.</summary>
    /// <param name="createTranslator">Called once, at the first write of a successful answer: true for an event stream.</param>
    public static TranslatingResponseBody Install(HttpContext context, GatewayRequestContext request, Func<bool, IResponseBodyTranslator> createTranslator)
    {
        var body = new TranslatingResponseBody(context, request, createTranslator);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        return body;
    }

    /// <summary>Writes what is left (a held JSON answer, the end of a stream), flushes, and restores the real body.</summary>
    public async ValueTask FinishAsync(bool completed, CancellationToken cancellationToken)
    {
        _context.Features.Set(_inner);
        try
        {
            if (completed && _translator is not null && !_completed)
            {
                _completed = true;
                if (_mode == Mode.Json && !_context.Response.HasStarted)
                {
                    // A held answer goes out in one write with its own length: no chunked framing, no closing chunk
                    // written (and sent) on its own after the body.
                    _scratch.ResetWrittenCount();
                    _translator.Complete(_scratch);
                    _context.Response.ContentLength = _scratch.WrittenCount;
                    _inner.Writer.Write(_scratch.WrittenSpan);
                }
                else
                {
                    _translator.Complete(_inner.Writer);
                }

                await _inner.Writer.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            (_translator as IDisposable)?.Dispose();
            _translator = null;
            _scratch.Dispose();
        }
    }

    public override void Advance(int bytes)
    {
        if (_mode == Mode.PassThrough)
        {
            _inner.Writer.Advance(bytes);
            return;
        }

        _scratch.Advance(bytes);
        _translator!.Write(_scratch.WrittenMemory.Span, _inner.Writer);
        _scratch.ResetWrittenCount();
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Decide();
        return _mode == Mode.PassThrough ? _inner.Writer.GetMemory(sizeHint) : _scratch.GetMemory(sizeHint);
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // A held JSON answer must not start the response: headers set at its end (the cost) still have to go out.
        return _mode == Mode.Json ? ValueTask.FromResult(new FlushResult(false, false)) : _inner.Writer.FlushAsync(cancellationToken);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        Decide();
        if (_mode == Mode.PassThrough)
        {
            return _inner.Writer.WriteAsync(source, cancellationToken);
        }

        _translator!.Write(source.Span, _inner.Writer);
        return FlushAsync(cancellationToken);
    }

    public override void CancelPendingFlush() => _inner.Writer.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        // The server completes the real body after the request; completing here would end it before FinishAsync.
    }

    void IHttpResponseBodyFeature.DisableBuffering() => _inner.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) =>
        _mode == Mode.Json ? Task.CompletedTask : _inner.StartAsync(cancellationToken);

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A translated response is not sent from a file.");

    Task IHttpResponseBodyFeature.CompleteAsync() => Task.CompletedTask;

    private void Decide()
    {
        if (_mode != Mode.Undecided)
        {
            return;
        }

        var response = _context.Response;
        if (response.StatusCode >= 400 || _request.Attempt.AnswerInClientProtocol)
        {
            _mode = Mode.PassThrough;
            return;
        }

        var stream = MediaType(response.ContentType).Equals("text/event-stream", StringComparison.OrdinalIgnoreCase);
        _mode = stream ? Mode.Stream : Mode.Json;
        _translator = _createTranslator(stream);
        // The translated body has its own length (a JSON answer's is set when it is written whole).
        response.ContentLength = null;
    }

    private static ReadOnlySpan<char> MediaType(string? contentType)
    {
        if (contentType is null)
        {
            return default;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim();
    }
}
