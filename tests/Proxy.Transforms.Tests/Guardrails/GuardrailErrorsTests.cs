using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Transforms.Guardrails;

namespace Proxy.Transforms.Tests.Guardrails;

public sealed class GuardrailErrorsTests
{
    private const string TutorialMessage =
        "{'error': 'Violated OpenAI moderation policy', 'moderation_result': {'violated_categories': ['violence'], 'category_scores': {'hate': 0.0, 'hate/threatening': 0.0, 'harassment': 0.0, 'harassment/threatening': 0.0, 'self-harm': 0.0, 'self-harm/intent': 0.0, 'self-harm/instructions': 0.0, 'sexual': 0.0, 'sexual/minors': 0.0, 'violence': 1.0, 'violence/graphic': 0.0}}}";

    private static readonly GuardrailDefinition Guard = new()
    {
        Name = "llama-guard", Kind = GuardrailKind.LlamaGuard, Modes = GuardrailModes.PreCall, ApiBase = "http://guard",
    };

    [Fact]
    public void Blocked_LlamaGuardS9_IsTheTutorialsExactBody()
    {
        var error = GuardrailErrors.Blocked(Guard, LlamaGuardPrompt.Parse("unsafe\nS9")!);

        Assert.Equal(400, error.Status);
        Assert.Equal("None", error.Type);
        Assert.Equal("None", error.Param);
        Assert.Equal("400", error.Code);
        Assert.Equal(TutorialMessage, error.Message);
    }

    [Fact]
    public void Blocked_Details_WriteTheVerdictAsJson()
    {
        var error = GuardrailErrors.Blocked(Guard, LlamaGuardPrompt.Parse("unsafe\nS1")!);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            error.Details!.WriteTo(writer);
            writer.WriteEndObject();
        }

        using var json = JsonDocument.Parse(buffer.WrittenMemory);
        Assert.Equal("llama-guard", json.RootElement.GetProperty("guardrail").GetString());
        var result = json.RootElement.GetProperty("moderation_result");
        Assert.Equal("violence", result.GetProperty("violated_categories")[0].GetString());
        Assert.Equal("S1", result.GetProperty("llama_guard_categories")[0].GetString());
    }

    [Fact]
    public void Blocked_Legacy_UsesLiteLlmsLegacyMessage()
    {
        var error = GuardrailErrors.Blocked(Guard with { Legacy = true }, LlamaGuardPrompt.Parse("unsafe\nS1")!);

        Assert.Equal("{'error': 'Violated content safety policy'}", error.Message);
    }

    [Fact]
    public void Unavailable_Is503NamingTheGuardrailAndTheSwitch()
    {
        var error = GuardrailErrors.Unavailable(Guard, "backend unreachable: ConnectionError");

        Assert.Equal(503, error.Status);
        Assert.Contains("'llama-guard'", error.Message, StringComparison.Ordinal);
        Assert.Contains("backend unreachable", error.Message, StringComparison.Ordinal);
        Assert.Contains("unreachable_fallback: fail_open", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.98, "0.98")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(1.5e-07, "1.5e-07")]
    [InlineData(123.0, "123.0")]
    public void AppendFloat_PrintsLikePythonRepr(double value, string expected) =>
        Assert.Equal(expected, new StringBuilder().AppendFloat(value).ToString());

    [Theory]
    [InlineData("violence", "'violence'")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("a\nb", "'a\\nb'")]
    public void AppendString_PrintsLikePythonRepr(string value, string expected) =>
        Assert.Equal(expected, new StringBuilder().AppendString(value).ToString());
}
