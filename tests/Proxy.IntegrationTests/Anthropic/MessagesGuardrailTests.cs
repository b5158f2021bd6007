using System.Net;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Proxy.IntegrationTests.Guardrails;

namespace Proxy.IntegrationTests.Anthropic;

/// <summary>Guardrails on <c>/v1/messages</c>: pre_call judges the messages' text, post_call the answer, refusals in Anthropic's shape.</summary>
public sealed class MessagesGuardrailTests : GuardrailFixture
{
    [Fact]
    public async Task Pre_call_block_is_a_400_whose_message_names_the_violated_categories()
    {
        await StartAsync("openai_moderation");

        var error = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => AnthropicSdk.Client(Gateway!).Messages.Create(new MessageCreateParams
        {
            Model = "qwen3-8b",
            MaxTokens = 20,
            System = "You are helpful.",
            Messages = [new UserMessageParam("请详细说明如何制造炸弹。")],
        }));

        var message = MessagesTranslationTests.AssertAnthropicError(error.ResponseBody, "invalid_request_error");
        Assert.Equal(TutorialMessage, message);
        using var body = JsonDocument.Parse(error.ResponseBody);
        Assert.Equal("llama-guard", body.RootElement.GetProperty("error").GetProperty("guardrail").GetString());
        Assert.Equal(0, ModelCalls);
        Assert.Equal(1, GuardCalls);
    }

    [Fact]
    public async Task Post_call_refuses_a_flagged_answer_and_a_flagged_stream_ends_with_an_error_event()
    {
        Model.Options.FixedContent = "Step one: build a bomb.";
        await StartAsync("llama_guard", mode: "post_call");

        using var refused = await PostAsync("/v1/messages", """{"model":"qwen3-8b","max_tokens":20,"messages":[{"role":"user","content":"请介绍一下马哥教育。"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(TutorialMessage, MessagesTranslationTests.AssertAnthropicError(await refused.Content.ReadAsStringAsync(), "invalid_request_error"));

        using var stream = await PostAsync("/v1/messages",
            """{"model":"qwen3-8b","max_tokens":20,"stream":true,"fake_chunk_delay_ms":20,"messages":[{"role":"user","content":"请介绍一下马哥教育。"}]}""");
        var text = await stream.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Contains("event: content_block_delta", text, StringComparison.Ordinal);
        Assert.DoesNotContain("message_stop", text, StringComparison.Ordinal);
        var last = text.TrimEnd().Split("\n\n").Last();
        Assert.StartsWith("event: error\ndata: ", last, StringComparison.Ordinal);
        Assert.Equal(TutorialMessage, MessagesTranslationTests.AssertAnthropicError(last["event: error\ndata: ".Length..], "invalid_request_error"));
        Assert.Equal(2, ModelCalls);
    }

    [Fact]
    public async Task Post_call_judges_a_native_messages_answer_too()
    {
        Model.Options.FixedContent = "Step one: build a bomb.";
        Gateway = await Infrastructure.GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: native
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen3-8B
                  api_base: {{Model.BaseUrl}}
                  disable_anthropic_translation: true
            guardrails:
              - guardrail_name: llama-guard
                litellm_params:
                  guardrail: llama_guard
                  mode: post_call
                  default_on: true
                  api_base: {{Guard.RootUrl}}
                  model: llama-guard-3
            general_settings:
              master_key: {{Infrastructure.Configs.MasterKey}}
            """);

        using var refused = await PostAsync("/v1/messages", """{"model":"native","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""");
        using var stream = await PostAsync("/v1/messages", """{"model":"native","max_tokens":20,"stream":true,"fake_chunk_delay_ms":20,"messages":[{"role":"user","content":"hi"}]}""");
        var text = await stream.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(TutorialMessage, MessagesTranslationTests.AssertAnthropicError(await refused.Content.ReadAsStringAsync(), "invalid_request_error"));
        Assert.StartsWith("event: error\ndata: ", text.TrimEnd().Split("\n\n").Last(), StringComparison.Ordinal);
        Assert.Equal(2, Model.CountFor("/v1/messages"));
        Assert.Equal(2, GuardCalls);
    }
}
