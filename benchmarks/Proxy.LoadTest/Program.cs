namespace Proxy.LoadTest;

/// <summary>Closed-loop, open-loop and streaming HTTP/1.1 load against an OpenAI-style chat endpoint on loopback.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(LoadOptions.Usage);
            return 0;
        }

        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + LoadOptions.Usage);
            return 2;
        }

        // Whatever happens, stop well after the planned end.
        using var hardStop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Warmup + options.Duration + 60));
        var result = await new LoadRunner(options, hardStop.Token).RunAsync();
        Console.WriteLine(result.ToHumanLine());
        Console.WriteLine("LOADJSON " + result.ToJson());
        return hardStop.IsCancellationRequested ? 3 : 0;
    }
}
