using System.ClientModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI.Audio;
using Proxy.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// OpenAI's multipart audio endpoints through the gateway: the official SDK's audio client, every response_format
/// passed back as the upstream wrote it, the form's model picking the group and being the only thing rewritten, a
/// retry that sends the whole file again, billing per second of audio, clear 4xx for forms no upstream could use,
/// and a 50 MB upload that does not go through the gateway's memory.
/// </summary>
public sealed class AudioEndpointTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FleetGateway _fleet = null!;

    public async Task InitializeAsync() => _fleet = await FleetGateway.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    private static MultipartFormDataContent Form(string? model, byte[]? file, string? responseFormat = null, string fileField = "file")
    {
        var form = new MultipartFormDataContent();
        if (file is not null)
        {
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
            form.Add(part, fileField, "hello.wav");
        }

        if (model is not null)
        {
            form.Add(new StringContent(model), "model");
        }

        if (responseFormat is not null)
        {
            form.Add(new StringContent(responseFormat), "response_format");
        }

        return form;
    }

    private Task<HttpResponseMessage> PostAsync(string path, HttpContent content, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return _fleet.Http.SendAsync(request);
    }

    [Fact]
    public async Task The_OpenAI_SDKs_audio_client_transcribes_and_translates_through_the_gateway()
    {
        var key = await _fleet.GenerateKeyAsync();
        var audio = Sdk.Client(_fleet.Gateway, key).GetAudioClient("whisper");
        var wav = Wav.Tone(1.5);

        // vLLM's verbose_json sends its duration as a string, which this SDK cannot read; json and text it can.
        AudioTranscription simple = await audio.TranscribeAudioAsync(new MemoryStream(wav), "hello.wav");
        AudioTranscription text = await audio.TranscribeAudioAsync(new MemoryStream(wav), "hello.wav",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Text, Language = "en" });
        AudioTranslation translation = await audio.TranslateAudioAsync(new MemoryStream(wav), "hello.wav");

        Assert.Equal($"transcribed {wav.Length} bytes", simple.Text);
        Assert.Equal($"transcribed {wav.Length} bytes", text.Text.Trim());
        Assert.Equal($"translated {wav.Length} bytes", translation.Text);
        Assert.Equal(["/v1/audio/transcriptions", "/v1/audio/transcriptions", "/v1/audio/translations"], _fleet.First.Requests.Select(r => r.Path));
        foreach (var request in _fleet.First.Requests)
        {
            using var form = JsonDocument.Parse(request.Body);
            // Only the model field is rewritten: the deployment's model, the file byte for byte.
            Assert.Equal("openai/whisper-large-v3", form.RootElement.GetProperty("model").GetString());
            Assert.Equal(wav.Length, form.RootElement.GetProperty("file_bytes").GetInt64());
            Assert.False(request.Headers.ContainsKey("Authorization") && request.Headers["Authorization"].Contains(key, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("json", "application/json")]
    [InlineData("verbose_json", "application/json")]
    [InlineData("text", "text/plain")]
    [InlineData("srt", "text/plain")]
    [InlineData("vtt", "text/plain")]
    public async Task Every_response_format_comes_back_as_the_upstream_wrote_it(string format, string mediaType)
    {
        var key = await _fleet.GenerateKeyAsync();
        var wav = Wav.Tone(0.5);
        using var direct = new HttpClient();
        using var fromUpstream = await direct.PostAsync(_fleet.Second.BaseUrl + "/audio/transcriptions", Form("openai/whisper-large-v3", wav, format));
        var expected = await fromUpstream.Content.ReadAsStringAsync();

        using var response = await PostAsync("/v1/audio/transcriptions", Form("whisper", wav, format), key);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, text);
        if (format == "vtt")
        {
            Assert.StartsWith("WEBVTT", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_failed_first_deployment_is_retried_with_the_whole_file_and_the_call_is_billed_per_second()
    {
        _fleet.First.Options.FailStatus = 500;
        var key = await _fleet.GenerateKeyAsync();
        var wav = Wav.Tone(2.5);

        using var response = await PostAsync("/audio/transcriptions", Form("whisper", wav, "text"), key);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("whisper-b", response.Headers.GetValues("x-litellm-model-id").Single());
        Assert.Equal("1", response.Headers.GetValues("x-litellm-attempted-retries").Single());
        foreach (var upstream in new[] { _fleet.First, _fleet.Second })
        {
            using var form = JsonDocument.Parse(upstream.Requests.Single().Body);
            Assert.Equal(wav.Length, form.RootElement.GetProperty("file_bytes").GetInt64());
            Assert.Equal("text", form.RootElement.GetProperty("response_format").GetString());
        }

        // LiteLLM's input_cost_per_second × the recording's length (read from its WAV header: 2.5 s).
        var expectedCost = 2.5 * FleetGateway.PerSecond;
        Assert.Equal(expectedCost.ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("x-litellm-response-cost").Single());
        var row = (await _fleet.SpendLogsAsync(key)).Single();
        Assert.Equal("atranscription", row.GetProperty("call_type").GetString());
        Assert.Equal(expectedCost, row.GetProperty("spend").GetDouble());
        Assert.Equal("whisper", row.GetProperty("model_group").GetString());
    }

    [Fact]
    public async Task A_form_without_a_file_is_a_400_naming_the_file_field_and_reaches_no_upstream()
    {
        var key = await _fleet.GenerateKeyAsync();

        using var response = await PostAsync("/v1/audio/transcriptions", Form("whisper", file: null), key);
        using var misnamed = await PostAsync("/v1/audio/transcriptions", Form("whisper", Wav.Tone(0.1), fileField: "audio"), key);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Contains("'file'", message, StringComparison.Ordinal);
        await ErrorAssert.IsOpenAiErrorAsync(misnamed, 400);
        Assert.Empty(_fleet.First.Requests);
        Assert.Empty(_fleet.Second.Requests);
    }

    [Fact]
    public async Task A_form_without_a_model_or_with_an_unknown_one_is_a_400_and_reaches_no_upstream()
    {
        var key = await _fleet.GenerateKeyAsync();

        using var missing = await PostAsync("/v1/audio/transcriptions", Form(null, Wav.Tone(0.1)), key);
        using var unknown = await PostAsync("/v1/audio/transcriptions", Form("no-such-group", Wav.Tone(0.1)), key);

        Assert.Contains("'model'", await ErrorAssert.IsOpenAiErrorAsync(missing, 400), StringComparison.Ordinal);
        Assert.Contains("no-such-group", await ErrorAssert.IsOpenAiErrorAsync(unknown, 400), StringComparison.Ordinal);
        Assert.Empty(_fleet.First.Requests);
    }

    [Fact]
    public async Task A_json_body_or_a_cut_off_form_is_a_400()
    {
        var key = await _fleet.GenerateKeyAsync();
        const string cutOff = "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF";
        var truncated = new StringContent(cutOff, Encoding.ASCII);
        truncated.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        using var json = await _fleet.PostJsonAsync("/v1/audio/transcriptions", """{"model":"whisper","file":"x"}""", key);
        using var cut = await PostAsync("/v1/audio/transcriptions", truncated, key);

        Assert.Contains("multipart/form-data", await ErrorAssert.IsOpenAiErrorAsync(json, 400), StringComparison.Ordinal);
        Assert.Contains("closing boundary", await ErrorAssert.IsOpenAiErrorAsync(cut, 400), StringComparison.Ordinal);
        Assert.Empty(_fleet.First.Requests);
    }

    [Fact]
    public async Task A_key_without_the_group_gets_403()
    {
        var key = await _fleet.GenerateKeyAsync("""{"models":["qwen"]}""");

        using var response = await PostAsync("/v1/audio/transcriptions", Form("whisper", Wav.Tone(0.1)), key);

        await ErrorAssert.IsOpenAiErrorAsync(response, 403);
        Assert.Empty(_fleet.First.Requests);
    }

    [Fact]
    public async Task A_50_MB_upload_passes_through_without_the_gateway_holding_it_in_memory()
    {
        var key = await _fleet.GenerateKeyAsync();
        using var client = new HttpClient { BaseAddress = new Uri(_fleet.Gateway.RootUrl), Timeout = TimeSpan.FromMinutes(3) };
        // Warm up every code path first (JIT, pools, connections), so the measurement sees only the upload.
        await UploadAsync(client, key, new StreamedUpload("whisper", 1 << 20));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baselineHeap = GC.GetTotalMemory(forceFullCollection: false);
        var baselineWorkingSet = Process.GetCurrentProcess().WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var upload = new StreamedUpload("whisper", 50L << 20);
        using var sampling = new CancellationTokenSource();
        var peak = SamplePeakAsync(sampling.Token);
        var text = await UploadAsync(client, key, upload);
        await sampling.CancelAsync();
        var (peakHeap, peakWorkingSet) = await peak;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        output.WriteLine($"50 MB upload: GC heap +{(peakHeap - baselineHeap) >> 10} KB, working set +{(peakWorkingSet - baselineWorkingSet) >> 10} KB, "
            + $"{allocated >> 10} KB allocated in the process (gateway, fake and client)");

        // It went through whole: the fake counted every byte of the file.
        Assert.Equal($"transcribed {upload.FileBytes} bytes\n", text);
        // Generous bounds (the machine is shared, and the fake and the client live in this process too): holding
        // the upload would add at least 50 MB to each.
        const long limit = 20L << 20;
        Assert.True(peakHeap - baselineHeap < limit, $"GC heap grew by {(peakHeap - baselineHeap) >> 20} MB");
        Assert.True(peakWorkingSet - baselineWorkingSet < limit, $"working set grew by {(peakWorkingSet - baselineWorkingSet) >> 20} MB");
        Assert.True(allocated < limit, $"{allocated >> 20} MB allocated while 50 MB went through");
    }

    private static async Task<string> UploadAsync(HttpClient client, string key, StreamedUpload upload)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/transcriptions") { Content = upload };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        // response_format travels in the form normally; here the fake's default (json) would do, but text is easy to compare.
        request.Headers.Add("x-fake-unused", "1");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("text").GetString() + "\n";
    }

    private static async Task<(long Heap, long WorkingSet)> SamplePeakAsync(CancellationToken cancellationToken)
    {
        long heap = 0;
        long workingSet = 0;
        using var process = Process.GetCurrentProcess();
        while (!cancellationToken.IsCancellationRequested)
        {
            heap = Math.Max(heap, GC.GetTotalMemory(forceFullCollection: false));
            process.Refresh();
            workingSet = Math.Max(workingSet, process.WorkingSet64);
            try
            {
                await Task.Delay(10, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (heap, workingSet);
    }
}
