using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Transforms.Protocols;

namespace Proxy.Transforms.Tests.Protocols;

/// <summary>Runs a translator over a body fed whole or in pieces of a given size, and reads SSE output back.</summary>
internal static class TranslatorHarness
{
    public static string Run(IResponseBodyTranslator translator, string input, int pieceSize = int.MaxValue)
    {
        var output = new ArrayBufferWriter<byte>();
        var bytes = Encoding.UTF8.GetBytes(input);
        for (var offset = 0; offset < bytes.Length; offset += pieceSize)
        {
            translator.Write(bytes.AsSpan(offset, Math.Min(pieceSize, bytes.Length - offset)), output);
        }

        translator.Complete(output);
        (translator as IDisposable)?.Dispose();
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>(event name, data JSON) of each event; name is null for data-only (OpenAI) events.</summary>
    public static List<(string? Name, string Data)> Events(string sse)
    {
        var events = new List<(string?, string)>();
        foreach (var block in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = "";
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line["data: ".Length..];
                }
            }

            events.Add((name, data));
        }

        return events;
    }

    public static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static string Sse(params string[] data) => string.Concat(data.Select(d => "data: " + d + "\n\n"));
}
