using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Proxy.Abstractions;

namespace Proxy.Host.Health;

/// <summary>
/// LiteLLM's health check by model_info.mode: a deployment that declares its mode is probed with the smallest call of
/// that kind (one token of chat or completion, one embedding, a one-document rerank, a tenth of a second of silence to
/// transcribe), so a server that is up but cannot serve its model shows as unhealthy. Without a mode (or for a
/// wildcard deployment, which has no one model) the plain probe is used.
/// </summary>
internal static class ModeProbe
{
    private static readonly byte[] Silence = SilentWav(0.1);

    /// <summary>The endpoint the mode's probe calls; null when the deployment is probed the plain way.</summary>
    public static OpenAiEndpoint? EndpointFor(Deployment deployment) => deployment.IsWildcard ? null : deployment.Mode switch
    {
        "chat" => OpenAiEndpoint.ChatCompletions,
        "completion" => OpenAiEndpoint.Completions,
        "embedding" => OpenAiEndpoint.Embeddings,
        "rerank" => OpenAiEndpoint.Rerank,
        "audio_transcription" => OpenAiEndpoint.AudioTranscriptions,
        _ => null,
    };

    public static HttpContent Body(Deployment deployment, OpenAiEndpoint endpoint)
    {
        if (endpoint == OpenAiEndpoint.AudioTranscriptions)
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(Silence);
            file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
            form.Add(file, "file", "health_check.wav");
            form.Add(new StringContent(deployment.UpstreamModel), "model");
            return form;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, deployment.UpstreamModel);
            switch (endpoint)
            {
                case OpenAiEndpoint.ChatCompletions:
                    json.WriteStartArray("messages"u8);
                    json.WriteStartObject();
                    json.WriteString("role"u8, "user"u8);
                    json.WriteString("content"u8, "ping"u8);
                    json.WriteEndObject();
                    json.WriteEndArray();
                    json.WriteNumber("max_tokens"u8, 1);
                    break;
                case OpenAiEndpoint.Completions:
                    json.WriteString("prompt"u8, "ping"u8);
                    json.WriteNumber("max_tokens"u8, 1);
                    break;
                case OpenAiEndpoint.Embeddings:
                    json.WriteString("input"u8, "ping"u8);
                    break;
                default:
                    json.WriteString("query"u8, "ping"u8);
                    json.WriteStartArray("documents"u8);
                    json.WriteStringValue("ping"u8);
                    json.WriteEndArray();
                    break;
            }

            json.WriteEndObject();
        }

        return new ByteArrayContent(buffer.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
    }

    private static byte[] SilentWav(double seconds)
    {
        const int rate = 16_000;
        var data = (int)(seconds * rate) * 2;
        var wav = new byte[44 + data];
        var span = wav.AsSpan();
        Encoding.ASCII.GetBytes("RIFF").CopyTo(span);
        BitConverter.TryWriteBytes(span[4..], 36 + data);
        Encoding.ASCII.GetBytes("WAVEfmt ").CopyTo(span[8..]);
        BitConverter.TryWriteBytes(span[16..], 16);
        BitConverter.TryWriteBytes(span[20..], (short)1);
        BitConverter.TryWriteBytes(span[22..], (short)1);
        BitConverter.TryWriteBytes(span[24..], rate);
        BitConverter.TryWriteBytes(span[28..], rate * 2);
        BitConverter.TryWriteBytes(span[32..], (short)2);
        BitConverter.TryWriteBytes(span[34..], (short)16);
        Encoding.ASCII.GetBytes("data").CopyTo(span[36..]);
        BitConverter.TryWriteBytes(span[40..], data);
        return wav;
    }
}
