using System.Text;
using Proxy.Abstractions;
using Proxy.Transforms.Usage;

namespace Proxy.Transforms.Tests.Usage;

/// <summary>Usage of native Anthropic answers (a Messages pass-through), for spend.</summary>
public sealed class AnthropicUsageTests
{
    private static GatewayRequestContext Request()
    {
        var request = new GatewayRequestContext { CallId = "c", StartTimestamp = 0 };
        request.Route("m", "m", stream: true, clientWantsUsage: false, estimatedInputTokens: 999);
        return request;
    }

    [Fact]
    public void Stream_usage_takes_input_tokens_from_message_start_and_output_tokens_from_message_delta()
    {
        var start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":40,\"cache_read_input_tokens\":8,\"output_tokens\":1}}}\n\n";
        var filler = string.Concat(Enumerable.Repeat("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word \"}}\n\n", 60));
        var end = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":61}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        var observer = new UsageObserver();
        observer.Reset(isEventStream: true, anthropic: true);
        foreach (var piece in new[] { start, filler, end })
        {
            observer.Observe(Encoding.UTF8.GetBytes(piece));
        }

        var request = Request();
        observer.RecordUsage(request);

        // The message_start event left the 2 KB tail long ago; the head kept it.
        Assert.Equal(48, request.Outcome.PromptTokens);
        Assert.Equal(61, request.Outcome.CompletionTokens);
    }

    [Fact]
    public void Json_usage_counts_cache_reads_and_writes_into_the_prompt()
    {
        var observer = new UsageObserver();
        observer.Reset(isEventStream: false, anthropic: true);
        observer.Observe("{\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":2,\"output_tokens\":7}}"u8);

        var request = Request();
        observer.RecordUsage(request);

        Assert.Equal(10, request.Outcome.PromptTokens);
        Assert.Equal(7, request.Outcome.CompletionTokens);
    }

    [Fact]
    public void Openai_cached_tokens_are_already_part_of_prompt_tokens()
    {
        var observer = new UsageObserver();
        observer.Reset(isEventStream: false);
        observer.Observe("{\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":6}}}"u8);

        var request = Request();
        observer.RecordUsage(request);

        Assert.Equal(10, request.Outcome.PromptTokens);
    }
}
