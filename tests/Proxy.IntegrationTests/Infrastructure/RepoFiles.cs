namespace Proxy.IntegrationTests.Infrastructure;

public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Proxy.sln not found above " + AppContext.BaseDirectory);
    }
}
