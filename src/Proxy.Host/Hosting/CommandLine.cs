using System.Globalization;

namespace Proxy.Host.Hosting;

/// <summary>The `litellm`-compatible command line: flags first, then the environment variables LiteLLM reads.</summary>
internal sealed record CommandLine
{
    public string? ConfigPath { get; init; }

    public int Port { get; init; } = 4000;

    public string Host { get; init; } = "0.0.0.0";

    public bool DetailedDebug { get; init; }

    public bool Debug { get; init; }

    public bool CheckConfig { get; init; }

    /// <summary>Serve /metrics on this port only (0 = the main port).</summary>
    public int MetricsPort { get; init; }

    public bool MetricsDisabled { get; init; }

    public bool Help { get; init; }

    public bool Version { get; init; }

    public IReadOnlyList<string> Errors { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public const string Usage = """
        Usage: Proxy.Host [options]

          --config, -c PATH   LiteLLM config.yaml to serve (env CONFIG_FILE_PATH); watched and reloaded on change
          --port PORT         port to listen on (default 4000, env PORT)
          --host HOST         address to bind (default 0.0.0.0)
          --detailed_debug    debug logging
          --debug             verbose (information) logging of the gateway itself
          --metrics-port PORT serve /metrics on this port only, not on the main one (keeps metrics private)
          --no-metrics        do not collect or serve Prometheus metrics
          --check-config      validate the config, print what is honoured, warned about or unsupported, and exit
                              (exit code 1 when the config has errors)
          --version           print the version
          --help, -h          this text

        Environment: LITELLM_MASTER_KEY overrides general_settings.master_key; LITELLM_LOG=DEBUG|INFO|WARNING|ERROR;
        JSON_LOGS=True writes one JSON object per log line (as litellm_settings.json_logs).
        """;

    public static CommandLine Parse(IReadOnlyList<string> args, Func<string, string?> getEnv)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        var result = new CommandLine { ConfigPath = NullIfEmpty(getEnv("CONFIG_FILE_PATH")) };
        var envPort = getEnv("PORT");
        if (!string.IsNullOrEmpty(envPort))
        {
            if (TryPort(envPort, out var envPortNumber))
            {
                result = result with { Port = envPortNumber };
            }
            else
            {
                errors.Add($"PORT: '{envPort}' is not a port number");
            }
        }

        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = Split(args[i]);
            string? Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }

                if (i + 1 < args.Count)
                {
                    return args[++i];
                }

                errors.Add($"{name}: a value is required");
                return null;
            }

            switch (name)
            {
                case "--config" or "-c":
                    result = result with { ConfigPath = Value() };
                    break;
                case "--port":
                    var text = Value();
                    if (text is not null && TryPort(text, out var port))
                    {
                        result = result with { Port = port };
                    }
                    else if (text is not null)
                    {
                        errors.Add($"--port: '{text}' is not a port number");
                    }

                    break;
                case "--host":
                    result = result with { Host = Value() ?? result.Host };
                    break;
                case "--detailed_debug" or "--detailed-debug":
                    result = result with { DetailedDebug = true };
                    break;
                case "--debug":
                    result = result with { Debug = true };
                    break;
                case "--metrics-port" or "--metrics_port":
                    var metricsText = Value();
                    if (metricsText is not null && TryPort(metricsText, out var metricsPort) && metricsPort > 0)
                    {
                        result = result with { MetricsPort = metricsPort };
                    }
                    else if (metricsText is not null)
                    {
                        errors.Add($"--metrics-port: '{metricsText}' is not a port number");
                    }

                    break;
                case "--no-metrics" or "--no_metrics":
                    result = result with { MetricsDisabled = true };
                    break;
                case "--check-config" or "--check_config":
                    result = result with { CheckConfig = true };
                    break;
                case "--help" or "-h":
                    result = result with { Help = true };
                    break;
                case "--version" or "-v":
                    result = result with { Version = true };
                    break;
                case "--num_workers" or "--num-workers":
                    Value();
                    warnings.Add("--num_workers is ignored: one process serves all cores; run replicas for more");
                    break;
                default:
                    errors.Add($"unknown option '{args[i]}'");
                    break;
            }
        }

        return result with { Errors = errors, Warnings = warnings };
    }

    private static (string Name, string? Value) Split(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
