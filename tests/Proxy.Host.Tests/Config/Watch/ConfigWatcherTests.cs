using Proxy.Host.Config.Watch;

namespace Proxy.Host.Tests.Config.Watch;

public sealed class ConfigWatcherTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("watch-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void PlainFile_OnlyItsOwnNameIsRelevant()
    {
        var path = Path.Combine(_directory, "config.yaml");
        File.WriteAllText(path, "model_list: []");

        var names = ConfigWatcher.RelevantNames(path);

        Assert.Equal(["config.yaml"], names);
        Assert.True(ConfigWatcher.IsRelevant("config.yaml", names));
        Assert.False(ConfigWatcher.IsRelevant("gateway.db", names));
        Assert.False(ConfigWatcher.IsRelevant("gateway.db-wal", names));
        Assert.False(ConfigWatcher.IsRelevant(".config.yaml.swp", names));
        Assert.False(ConfigWatcher.IsRelevant(null, names));
    }

    [Fact]
    public void KubernetesConfigMap_TheDataSwapIsRelevant()
    {
        // The kubelet's atomic writer: config.yaml -> ..data/config.yaml, ..data -> ..2026_12_01_..., swapped via ..data_tmp.
        var version = Path.Combine(_directory, "..2026_12_01_10_00_00.1");
        Directory.CreateDirectory(version);
        File.WriteAllText(Path.Combine(version, "config.yaml"), "model_list: []");
        Directory.CreateSymbolicLink(Path.Combine(_directory, "..data"), "..2026_12_01_10_00_00.1");
        var path = Path.Combine(_directory, "config.yaml");
        File.CreateSymbolicLink(path, Path.Combine("..data", "config.yaml"));

        var names = ConfigWatcher.RelevantNames(path);

        Assert.Contains("config.yaml", names);
        Assert.Contains("..data", names);
        Assert.True(ConfigWatcher.IsRelevant("..data_tmp", names));
        Assert.True(ConfigWatcher.IsRelevant("..2026_12_01_10_05_00.2", names));
        Assert.False(ConfigWatcher.IsRelevant("other.yaml", names));
    }

    [Fact]
    public void SymlinkIntoASubfolder_NamesTheSubfolder()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "real"));
        File.WriteAllText(Path.Combine(_directory, "real", "gateway.yaml"), "model_list: []");
        var path = Path.Combine(_directory, "config.yaml");
        File.CreateSymbolicLink(path, Path.Combine("real", "gateway.yaml"));

        Assert.Equal(["config.yaml", "real"], ConfigWatcher.RelevantNames(path));
    }

    [Fact]
    public void SymlinkOutsideTheFolder_AddsNothing()
    {
        var outside = Directory.CreateTempSubdirectory("watch-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "config.yaml"), "model_list: []");
            var path = Path.Combine(_directory, "config.yaml");
            File.CreateSymbolicLink(path, Path.Combine(outside, "config.yaml"));

            Assert.Equal(["config.yaml"], ConfigWatcher.RelevantNames(path));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }
}
