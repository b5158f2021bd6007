using System.Diagnostics;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>
/// The real Redis and PostgreSQL that scripts/test.sh (scripts/services.sh) starts on free loopback ports. Tests that
/// need them fail with a clear message when run outside that script, rather than silently skipping.
/// </summary>
public static class TestServices
{
    /// <summary>host:port of the test Redis.</summary>
    public static string Redis => Required("PROXY_TEST_REDIS");

    /// <summary>Npgsql connection string of the test PostgreSQL (database "postgres").</summary>
    public static string Postgres => Required("PROXY_TEST_PG");

    public static string Chromium => Required("PROXY_TEST_CHROMIUM");

    /// <summary>The Claude Code binary scripts/claude-code.sh installed.</summary>
    public static string ClaudeCode => Required("PROXY_TEST_CLAUDE_CODE");

    /// <summary>The Codex CLI binary scripts/codex.sh installed.</summary>
    public static string Codex => Required("PROXY_TEST_CODEX");

    /// <summary>A folder whose node_modules holds the Node openai SDK (scripts/openai-node.sh installed it).</summary>
    public static string OpenAiNode => Required("PROXY_TEST_OPENAI_NODE");

    /// <summary>Stops the test Redis (fault tests); <see cref="StartRedisAsync"/> brings it back on the same port.</summary>
    public static Task StopRedisAsync() => RunScriptAsync("redis-stop.sh");

    public static Task StartRedisAsync() => RunScriptAsync("redis-start.sh");

    /// <summary>Stops the test PostgreSQL (fast shutdown); <see cref="StartPostgresAsync"/> brings it back with its data.</summary>
    public static Task StopPostgresAsync() => RunScriptAsync("pg-stop.sh");

    public static Task StartPostgresAsync() => RunScriptAsync("pg-start.sh");

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test.sh, which starts Redis, PostgreSQL, finds Chromium and installs Claude Code");

    private static async Task RunScriptAsync(string script)
    {
        var path = Path.Combine(Required("PROXY_TEST_SERVICES"), script);
        using var process = Process.Start(new ProcessStartInfo("bash", [path]) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("could not start bash");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} exited with {process.ExitCode}: {await stdout} {await stderr}");
        }
    }
}
