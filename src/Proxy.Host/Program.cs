using Proxy.Host.Config;
using Proxy.Host.Hosting;
using Proxy.Host.Routing;

var commandLine = CommandLine.Parse(args, Environment.GetEnvironmentVariable);
if (commandLine.Help)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

if (commandLine.Version)
{
    Console.WriteLine(GatewayVersion.Value);
    return 0;
}

if (commandLine.Errors.Count > 0)
{
    foreach (var error in commandLine.Errors)
    {
        Console.Error.WriteLine("error: " + error);
    }

    Console.Error.WriteLine(CommandLine.Usage);
    return 2;
}

if (commandLine.CheckConfig)
{
    if (commandLine.ConfigPath is null)
    {
        Console.Error.WriteLine("error: --check-config needs --config PATH (or CONFIG_FILE_PATH)");
        return 2;
    }

    var result = ConfigLoader.Load(commandLine.ConfigPath, Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);
    Console.WriteLine(ConfigSupport.Report(result));
    var translationErrors = result.Config is null ? [] : SnapshotBuilder.Validate(result.Config);
    foreach (var error in translationErrors)
    {
        Console.WriteLine("error: " + error);
    }

    return result.Succeeded && translationErrors.Count == 0 ? 0 : 1;
}

WebApplication app;
try
{
    app = GatewayHost.Build(commandLine, Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);
}
catch (GatewayStartupException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

await app.StartAsync();
// Through the logger, so that with json_logs the banner is a JSON line like every other.
var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Proxy.Host.Startup");
foreach (var address in app.Urls)
{
    startup.LogInformation("Proxy.Host {Version} RUNNING on {Address}", GatewayVersion.Value, address);
}

await app.WaitForShutdownAsync();
return 0;
