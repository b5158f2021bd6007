using System.Text;
using Microsoft.Net.Http.Headers;

namespace Proxy.Transforms.Multipart;

/// <summary>
/// Finds the parts of a multipart/form-data body in one forward pass as it streams by (RFC 7578 / RFC 2046), without
/// keeping it: only part headers, the few small text fields the gateway reads, and the first bytes of the file are
/// held. The caller shows it windows of the body and keeps what <see cref="Process"/> did not consume for the next one.
/// </summary>
public sealed class MultipartScanner
{
    /// <summary>The most header bytes one part may have; browsers and SDKs send a few hundred.</summary>
    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>The most content kept of a field the gateway reads (a model name, a flag).</summary>
    public const int MaxFieldBytes = 4 * 1024;

    /// <summary>How much of the file is kept: enough for a WAV header and its first chunks.</summary>
    public const int FileHeadBytes = 512;

    // What a preamble or a part's content ends with. The reader starts the body with a virtual CRLF so the first
    // boundary (which has none before it) looks like every other.
    private readonly byte[] _delimiter;
    private readonly List<MultipartPart> _parts = [];
    private readonly byte[] _fileHead = new byte[FileHeadBytes];
    private State _state = State.Preamble;
    private string? _name;
    private string? _fileName;
    private long _partStart;
    private byte[]? _field;
    private int _fieldLength;
    private bool _isFile;
    private int _fileHeadLength;

    public MultipartScanner(string boundary) => _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);

    private enum State
    {
        Preamble,
        AfterDelimiter,
        Headers,
        Content,
        Done,
    }

    /// <summary>The body ended with its closing boundary.</summary>
    public bool Completed => _state == State.Done;

    /// <summary>Why the body cannot be read; null while it can.</summary>
    public string? Error { get; private set; }

    public IReadOnlyList<MultipartPart> Parts => _parts;

    /// <summary>The first bytes of the first file part (for the audio's duration).</summary>
    public ReadOnlySpan<byte> FileHead => _fileHead.AsSpan(0, _fileHeadLength);

    /// <summary>
    /// Scans <paramref name="window"/>, whose first byte is at <paramref name="windowStart"/> in the body, and returns
    /// how many bytes it consumed; the rest must be shown again, followed by more, in the next call. With
    /// <paramref name="final"/> no more bytes will come.
    /// </summary>
    public int Process(ReadOnlySpan<byte> window, long windowStart, bool final)
    {
        var pos = 0;
        while (Error is null)
        {
            switch (_state)
            {
                case State.Preamble:
                case State.Content:
                {
                    var found = window[pos..].IndexOf(_delimiter);
                    if (found < 0)
                    {
                        if (final)
                        {
                            Error = _state == State.Preamble ? "no boundary found; check the Content-Type's boundary" : "the body ends before its closing boundary";
                            return pos;
                        }

                        // A delimiter may start in the last few bytes: keep them for the next window.
                        var safe = Math.Max(pos, window.Length - (_delimiter.Length - 1));
                        Keep(window[pos..safe]);
                        return safe;
                    }

                    Keep(window.Slice(pos, found));
                    if (_state == State.Content)
                    {
                        EndPart(windowStart + pos + found);
                    }

                    pos += found + _delimiter.Length;
                    _state = State.AfterDelimiter;
                    break;
                }

                case State.AfterDelimiter:
                {
                    if (window.Length - pos < 2)
                    {
                        return NeedMore(pos, final, "the body ends inside a boundary line");
                    }

                    if (window[pos] == (byte)'-' && window[pos + 1] == (byte)'-')
                    {
                        // The closing boundary; whatever follows is the epilogue, which means nothing.
                        _state = State.Done;
                        return window.Length;
                    }

                    // RFC 2046 allows linear whitespace after a boundary before its CRLF.
                    var lineEnd = pos;
                    while (lineEnd < window.Length && lineEnd - pos < 256 && window[lineEnd] is (byte)' ' or (byte)'\t')
                    {
                        lineEnd++;
                    }

                    if (window.Length - lineEnd < 2)
                    {
                        return NeedMore(pos, final, "the body ends inside a boundary line");
                    }

                    if (window[lineEnd] != (byte)'\r' || window[lineEnd + 1] != (byte)'\n')
                    {
                        Error = "a boundary line is not followed by a line break";
                        return pos;
                    }

                    pos = lineEnd + 2;
                    _state = State.Headers;
                    break;
                }

                case State.Headers:
                {
                    var rest = window[pos..];
                    int headerLength;
                    int skip;
                    if (rest.StartsWith("\r\n"u8))
                    {
                        // A part with no headers at all.
                        headerLength = 0;
                        skip = 2;
                    }
                    else
                    {
                        headerLength = rest.IndexOf("\r\n\r\n"u8);
                        skip = 4;
                        if (headerLength < 0)
                        {
                            if (rest.Length > MaxHeaderBytes)
                            {
                                Error = $"a part's headers are longer than {MaxHeaderBytes} bytes";
                                return pos;
                            }

                            return NeedMore(pos, final, "the body ends inside a part's headers");
                        }
                    }

                    StartPart(rest[..headerLength], windowStart + pos + headerLength + skip);
                    pos += headerLength + skip;
                    _state = State.Content;
                    break;
                }

                default:
                    return window.Length;
            }
        }

        return pos;
    }

    private int NeedMore(int pos, bool final, string error)
    {
        if (final)
        {
            Error = error;
        }

        return pos;
    }

    private void StartPart(ReadOnlySpan<byte> headers, long contentStart)
    {
        _name = null;
        _fileName = null;
        foreach (var range in headers.Split("\r\n"u8))
        {
            var line = headers[range];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !Ascii.EqualsIgnoreCase(line[..colon].Trim((byte)' '), "Content-Disposition"u8))
            {
                continue;
            }

            // Header values are ASCII or, from some clients, UTF-8 file names.
            var value = Encoding.UTF8.GetString(line[(colon + 1)..]).Trim();
            if (ContentDispositionHeaderValue.TryParse(value, out var disposition) && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                _name = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
                var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName;
                _fileName = fileName.HasValue ? HeaderUtilities.RemoveQuotes(fileName).ToString() : null;
            }
        }

        _partStart = contentStart;
        _isFile = _fileName is not null && !HasFile;
        _fieldLength = 0;
        _field = _fileName is null && IsReadField(_name) ? new byte[MaxFieldBytes] : null;
    }

    private bool HasFile { get; set; }

    // The text fields the gateway needs; any other field (prompt, language, temperature, ...) passes by unread.
    private static bool IsReadField(string? name) => name is "model" or "stream" or "response_format";

    private void Keep(ReadOnlySpan<byte> content)
    {
        if (_state != State.Content || content.IsEmpty)
        {
            return;
        }

        if (_field is not null)
        {
            if (_fieldLength + content.Length > MaxFieldBytes)
            {
                Error = $"form field '{_name}' is longer than {MaxFieldBytes} bytes";
                return;
            }

            content.CopyTo(_field.AsSpan(_fieldLength));
            _fieldLength += content.Length;
        }

        if (_isFile && _fileHeadLength < FileHeadBytes)
        {
            var take = Math.Min(FileHeadBytes - _fileHeadLength, content.Length);
            content[..take].CopyTo(_fileHead.AsSpan(_fileHeadLength));
            _fileHeadLength += take;
        }
    }

    private void EndPart(long contentEnd)
    {
        var value = _field is null ? null : Encoding.UTF8.GetString(_field, 0, _fieldLength);
        if (_name is not null)
        {
            _parts.Add(new MultipartPart(_name, _fileName, _partStart, contentEnd, value));
        }

        HasFile |= _isFile;
        _field = null;
        _isFile = false;
    }
}
