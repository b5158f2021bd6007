using System.Text;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Tests.Body;

public sealed class RequestTagsTests
{
    private static List<string>? Collect(string json, string? header = null, string[]? keyTags = null)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));
        return RequestTags.Collect(body, scan, header, keyTags);
    }

    [Fact]
    public void Tags_come_from_the_body_metadata_header_and_key_in_that_order_without_duplicates()
    {
        var tags = Collect("""{"model":"m","metadata":{"user":"u","tags":["b","a"]},"tags":["a",1,"c"]}""", " d , a,,", ["e", "b"]);

        Assert.Equal(["a", "c", "b", "d", "e"], tags);
    }

    [Fact]
    public void A_single_string_is_one_tag_and_no_tags_is_null()
    {
        Assert.Equal(["private-data"], Collect("""{"model":"m","tags":"private-data"}"""));
        Assert.Null(Collect("""{"model":"m","tags":[],"metadata":{"tags":null}}"""));
    }

    [Fact]
    public void The_scan_records_where_the_values_are_and_still_strips_them()
    {
        var body = Encoding.UTF8.GetBytes("""{"tags":["x"],"model":"m","metadata":{"tags":["y"]}}""");
        RequestScanner.Scan(body, out var scan);

        Assert.Equal("""["x"]""", Encoding.UTF8.GetString(body, scan.TagsValueStart, scan.TagsValueLength));
        Assert.Equal("""{"tags":["y"]}""", Encoding.UTF8.GetString(body, scan.MetadataValueStart, scan.MetadataValueLength));
        using var spliced = BodySplicer.Splice(body, scan, "m", forceIncludeUsage: false);
        Assert.Equal("""{"model":"m"}""", Encoding.UTF8.GetString(spliced.Span));
    }

    [Fact]
    public void A_model_only_splice_keeps_every_other_byte()
    {
        var body = Encoding.UTF8.GetBytes("""{ "tags":["x"], "model" : "group" ,"metadata":{"a":1}}""");
        RequestScanner.Scan(body, out var scan);

        using var spliced = ModelSplice.Replace(body, scan, "org/Model \"v2\"");

        Assert.Equal("""{ "tags":["x"], "model" : "org/Model \"v2\"" ,"metadata":{"a":1}}""", Encoding.UTF8.GetString(spliced.Span));
        Assert.True(ModelSplice.IsIdentity(scan, "group"));
    }
}
