using System.Text;
using Proxy.Transforms.Multipart;

namespace Proxy.Transforms.Tests.Multipart;

public sealed class SpooledBodyTests
{
    [Fact]
    public async Task A_body_past_the_memory_part_spills_to_a_file_that_reads_back_the_same_and_is_deleted_on_dispose()
    {
        var directory = Directory.CreateTempSubdirectory("spool-test-").FullName;
        var data = new byte[SpooledBody.MemoryBytes * 3 + 17];
        new Random(7).NextBytes(data);
        var spool = new SpooledBody(directory);
        for (var offset = 0; offset < data.Length; offset += 10_000)
        {
            await spool.WriteAsync(data.AsMemory(offset, Math.Min(10_000, data.Length - offset)), CancellationToken.None);
        }

        Assert.True(spool.SpilledToDisk);
        Assert.Single(Directory.GetFiles(directory));
        var copy = new byte[data.Length];
        Assert.Equal(data.Length, await spool.CopyToAsync(0, copy, CancellationToken.None));
        Assert.Equal(data, copy);

        await spool.DisposeAsync();
        Assert.Empty(Directory.GetFiles(directory));
        Directory.Delete(directory);
    }

    [Fact]
    public async Task Each_reader_replaces_the_model_field_and_reads_from_the_start_on_its_own()
    {
        var body = Encoding.ASCII.GetBytes("before[MODEL]after");
        var spool = new SpooledBody();
        await spool.WriteAsync(body, CancellationToken.None);
        var model = new MultipartPart("model", null, 6, 13, "[MODEL]");
        var multipart = new MultipartBody(spool, [model], model, model, null);

        using var first = multipart.OpenFor("Qwen/Qwen3-8B", out var firstLength);
        using var second = multipart.OpenFor("m", out var secondLength);

        Assert.Equal("beforeQwen/Qwen3-8Bafter", await ReadAllAsync(first));
        Assert.Equal("beforemafter", await ReadAllAsync(second));
        Assert.Equal("beforeQwen/Qwen3-8Bafter".Length, firstLength);
        Assert.Equal("beforemafter".Length, secondLength);
        await multipart.DisposeAsync();
    }

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        var result = new MemoryStream();
        var buffer = new byte[3];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            result.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(result.ToArray());
    }
}
