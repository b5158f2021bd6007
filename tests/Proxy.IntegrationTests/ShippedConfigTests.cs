using Proxy.Host.Config;
using Proxy.Host.Routing;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class ShippedConfigTests
{
    public static TheoryData<string> ShippedConfigs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoFiles.Root, "config"), "*.yaml")
            .Concat(Directory.EnumerateFiles(Path.Combine(RepoFiles.Root, "compose"), "*.yaml", SearchOption.AllDirectories))
            .Where(f => !f.EndsWith("docker-compose.yml", StringComparison.Ordinal)))
        {
            data.Add(Path.GetRelativePath(RepoFiles.Root, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedConfigs))]
    public void Every_shipped_config_loads_without_errors(string relativePath)
    {
        var env = new Dictionary<string, string?> { ["LITELLM_MASTER_KEY"] = "sk-test" };

        var result = ConfigLoader.Load(Path.Combine(RepoFiles.Root, relativePath), n => env.GetValueOrDefault(n), (n, v) => env[n] = v);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Diagnostics));
        Assert.Empty(SnapshotBuilder.Validate(result.Config!));
    }
}
