using System.Text;
using Proxy.Transforms.Responses;

namespace Proxy.Transforms.Tests.Responses;

public class ResponseIdCodecTests
{
    [Fact]
    public void Encode_ThenDecode_GivesTheDeploymentAndTheUpstreamId()
    {
        var id = ResponseIdCodec.Encode("hosted_vllm", "a1b2c3", "resp_0123456789abcdef");

        Assert.StartsWith("resp_", id, StringComparison.Ordinal);
        Assert.True(ResponseIdCodec.TryDecode(id, out var decoded));
        Assert.Equal(new DecodedResponseId("hosted_vllm", "a1b2c3", "resp_0123456789abcdef"), decoded);
    }

    [Fact]
    public void GatewayStoredIds_DecodeAsStoredAndOlderIdsAsNot()
    {
        var stored = ResponseIdCodec.EncodeGatewayStored("anthropic", "claude-1", "resp_gw0123");
        var native = ResponseIdCodec.Encode("hosted_vllm", "vllm-1", "resp_up0123");

        Assert.True(ResponseIdCodec.TryDecode(stored, out var storedId));
        Assert.Equal(new DecodedResponseId("anthropic", "claude-1", "resp_gw0123", GatewayStored: true), storedId);
        Assert.True(ResponseIdCodec.TryDecode(native, out var nativeId));
        Assert.False(nativeId.GatewayStored);
        Assert.Equal("resp_up0123", nativeId.UpstreamId);
    }

    [Fact]
    public void EncodedIds_AreSafeInAUrlPath()
    {
        // Ids that would need '+' or '/' in standard base64 at many offsets.
        for (var i = 0; i < 64; i++)
        {
            var id = ResponseIdCodec.Encode("hosted_vllm", new string('?', i), "resp_" + new string('>', 64 - i));
            Assert.DoesNotContain('/', id);
            Assert.DoesNotContain('+', id);
            Assert.DoesNotContain('=', id);
        }
    }

    [Fact]
    public void LiteLLMsStandardBase64Ids_AreRead()
    {
        var plain = "litellm:custom_llm_provider:openai;model_id:8f3e;response_id:resp_abc";
        var litellm = "resp_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(plain));

        Assert.True(ResponseIdCodec.TryDecode(litellm, out var decoded));
        Assert.Equal("8f3e", decoded.DeploymentId);
        Assert.Equal("resp_abc", decoded.UpstreamId);
    }

    [Theory]
    [InlineData("resp_0123456789abcdef")]
    [InlineData("msg_abc")]
    [InlineData("resp_")]
    [InlineData("resp_!!!!")]
    [InlineData("")]
    public void ForeignIds_AreNotOurs(string id) => Assert.False(ResponseIdCodec.TryDecode(id, out _));

    [Fact]
    public void AForgeryThatDoesNotParse_IsNotOurs()
    {
        var forged = "resp_" + Convert.ToBase64String(Encoding.UTF8.GetBytes("litellm:custom_llm_provider:x;model_id:;response_id:"));

        Assert.False(ResponseIdCodec.TryDecode(forged, out _));
    }
}
