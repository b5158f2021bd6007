using Proxy.Transforms.Usage;

namespace Proxy.Transforms.Tests.Usage;

public sealed class BilledUnitsTests
{
    [Theory]
    [InlineData("""{"meta":{"billed_units":{"search_units":3}}}""", "\"search_units\"", 3.0)]
    [InlineData("""{"id":"x","usage":{"total_tokens" : 42},"results":[]}""", "\"total_tokens\"", 42.0)]
    [InlineData("""{"duration": "12.5","language":"en"}""", "\"duration\"", 12.5)]
    [InlineData("""{"text":"hi","usage":{"type":"duration","seconds":7}}""", "\"seconds\"", 7.0)]
    public void Numbers_are_read_after_their_quoted_name(string json, string name, double expected)
    {
        Assert.Equal(expected, BilledUnits.Number(System.Text.Encoding.UTF8.GetBytes(json), System.Text.Encoding.UTF8.GetBytes(name)));
    }

    [Theory]
    [InlineData("""{"text":"she said \"duration\": 99"}""")]
    [InlineData("""{"duration":null}""")]
    [InlineData("""{"duration":-1}""")]
    public void A_name_inside_a_string_or_a_value_that_is_no_count_gives_nothing(string json)
    {
        Assert.Null(BilledUnits.Number(System.Text.Encoding.UTF8.GetBytes(json), "\"duration\""u8));
    }
}
