using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.Abstractions;
using Proxy.Admin;
using Proxy.Admin.Ui;
using Proxy.Host.Auth;
using Proxy.Host.Caching;
using Proxy.Host.Config.Watch;
using Proxy.Host.Endpoints;
using Proxy.Host.Errors;
using Proxy.Host.Guardrails;
using Proxy.Host.Health;
using Proxy.Host.Observability;
using Proxy.Host.PassThrough;
using Prometheus;
using Proxy.Host.Pipeline;
using Proxy.Host.Routing;
using Proxy.Host.Security;
using Yarp.ReverseProxy.Forwarder;
using Proxy.LoadBalancing;
using Proxy.Transforms.Guardrails;
using Proxy.Transforms.Protocols;
using Proxy.Transforms.Protocols.Anthropic;
using Proxy.Transforms.Providers;
using Proxy.Transforms.Usage;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Proxy.Host.Hosting;

/// <summary>Builds the gateway's web application; Program and the integration tests both start it from here.</summary>
internal static partial class GatewayHost
{
    public static WebApplication Build(CommandLine commandLine, Func<string, string?> getEnv, Action<string, string?> setEnv)
    {
        var storedModels = new StoredModelCatalog();
        var source = new ConfigSource(commandLine.ConfigPath, getEnv, setEnv, storedModels);
        storedModels.Validator = source.ValidateStored;
        var time = TimeProvider.System;
        var now = time.GetUtcNow();
        var initial = source.Load(1, now, previous: null);
        if (initial.Snapshot is null)
        {
            throw new GatewayStartupException(initial.Errors);
        }

        var state = new GatewayState(initial.Snapshot, new ReloadStatus(now, true, 1, [], initial.WarningCount));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        var jsonLogs = initial.Snapshot.Config.LitellmSettings.JsonLogs || IsTrue(getEnv("JSON_LOGS"));
        ConfigureLogging(builder.Logging, commandLine, getEnv, jsonLogs);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // 1 MB for every route before authentication; model routes raise it to general_settings.max_request_size_mb
            // for themselves (RequestBodyReader), /login lowers it to 16 KB.
            kestrel.Limits.MaxRequestBodySize = BodyLimitMiddleware.GlobalMaxRequestBodyBytes;
            Listen(kestrel, commandLine.Host, commandLine.Port);
            if (commandLine.MetricsPort > 0)
            {
                Listen(kestrel, commandLine.Host, commandLine.MetricsPort);
            }
        });

        var services = builder.Services;
        services.AddSingleton(time);
        services.AddSingleton(source);
        services.AddSingleton(state);
        services.AddSingleton<IProxyConfigProvider>(state);
        services.AddSingleton<IConfigChangeListener>(state);
        services.AddSingleton<IInboundProtocol, AnthropicMessagesProtocol>();
        services.AddSingleton<InboundProtocols>();
        services.AddSingleton<Pipeline.StoredResponses>();
        services.AddSingleton<IOpenAiErrorWriter, OpenAiErrorWriter>();
        services.AddSingleton<AuthFailureThrottle>();
        services.AddSingleton<IGatewayRequestStage, CountTokensStage>();
        services.AddSingleton<OpenAiCompatibleTransformer>();
        services.AddSingleton<PassThroughClient>();
        services.AddSingleton<PromptTokenCounter>();
        services.AddSingleton<ConfigReloader>();
        services.AddHostedService<ConfigWatcher>();
        services.AddSingleton<ProviderModelDiscovery>();
        services.AddHostedService(sp => sp.GetRequiredService<ProviderModelDiscovery>());
        services.AddSingleton<IRouterOptionsSource>(state);
        services.AddHttpClient();
        // Stored models' clusters and the /health probes connect through the internal-address guard.
        services.AddSingleton<UpstreamConnectGuard>();
        services.AddSingleton<HealthProbeRuns>();
        services.AddSingleton<IForwarderHttpClientFactory, GuardedForwarderHttpClientFactory>();
        services.AddHttpClient(HealthEndpoints.ProbeClientName).ConfigurePrimaryHttpMessageHandler(sp =>
            new SocketsHttpHandler { ConnectCallback = sp.GetRequiredService<UpstreamConnectGuard>().ConnectAsync });
        services.AddSingleton<IProbingRequestFactory, DeploymentProbingRequestFactory>();
        services.AddReverseProxy().AddGatewayLoadBalancing();
        services.AddGuardrails(sp => ActivatorUtilities.CreateInstance<GuardrailSettingsSource>(sp));
        services.AddGatewayCache(getEnv, commandLine.MetricsPort);
        services.AddBilledUnits();
        services.AddSingleton(storedModels);
        var adminOptions = AdminSettings.From(initial.Snapshot.Config, source.Path, getEnv);
        services.AddSingleton<IModelGroupPrices, SnapshotModelGroupPrices>();
        services.AddGatewayAdmin(adminOptions);
        if (adminOptions.SharedLimits is { } sharedRedis && adminOptions.SharedLimitsFromRouter)
        {
            // router_settings.redis_* carries the router's shared state (LiteLLM: cooldowns), not the cache's Redis.
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SharedCooldowns>(sp, sharedRedis));
            services.AddSingleton<ICooldownBroadcaster>(sp => sp.GetRequiredService<SharedCooldowns>());
            services.AddSingleton<IReadinessContributor>(sp => sp.GetRequiredService<SharedCooldowns>());
            services.AddHostedService(sp => sp.GetRequiredService<SharedCooldowns>());
        }

        services.AddGatewayUi(UiSettings.From(getEnv, adminOptions.StoreModelInDb), sp => new SnapshotMasterKeyAccess(sp.GetRequiredService<GatewayState>()));
        // Completion observers run in their ObserverOrder, not in registration order.
        if (!commandLine.MetricsDisabled)
        {
            services.AddSingleton(new MetricsLabelOptions(initial.Snapshot.Config.LitellmSettings.PrometheusEndUserLabel));
            services.AddSingleton<GatewayMetrics>();
            services.AddSingleton<IRequestCompletionObserver>(provider => provider.GetRequiredService<GatewayMetrics>());
            services.AddSingleton<Proxy.Transforms.Caching.Semantic.ISemanticCacheMetrics, SemanticCacheMetrics>();
            services.AddSingleton<IRequestCompletionObserver, FleetRoutingMetrics>();
        }

        services.AddHostedService<VllmMetricsScraper>();

        services.AddSingleton(new AccessLogFormat(jsonLogs));
        services.AddSingleton<AccessLogWriter>();
        services.AddSingleton<IRequestCompletionObserver, AccessLog>();

        var app = builder.Build();
        // Models stored through /model/new apply like a config edit: a new snapshot, no restart.
        storedModels.Changed += () => app.Services.GetRequiredService<ConfigReloader>().Reload();
        var startupLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Proxy.Host.Startup");
        foreach (var diagnostic in initial.Diagnostics)
        {
            if (diagnostic.Severity == Config.ConfigSeverity.Warning)
            {
                Log.ConfigWarning(startupLogger, diagnostic.ToString());
            }
        }

        foreach (var warning in commandLine.Warnings)
        {
            Log.ConfigWarning(startupLogger, warning);
        }

        if (!initial.Snapshot.MasterKey.IsConfigured)
        {
            Log.OpenGateway(startupLogger);
        }

        if (commandLine.MetricsPort > 0)
        {
            // The metrics port answers /metrics and nothing else; the main port does not answer /metrics.
            var metricsPort = commandLine.MetricsPort;
            app.Use((context, next) =>
            {
                var onMetricsPort = context.Connection.LocalPort == metricsPort;
                var isMetrics = context.Request.Path.Equals("/metrics", StringComparison.Ordinal);
                if (onMetricsPort != isMetrics)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.UseMiddleware<GatewayContextMiddleware>();
        app.UseMiddleware<DotSegmentGuard>();
        app.UseMiddleware<BodyLimitMiddleware>();
        app.UseMiddleware<MetricsAuthMiddleware>();
        app.UseRouting();
        app.UseMiddleware<GatewayAuthMiddleware>();
        app.MapGatewayEndpoints();
        app.MapHealthEndpoints();
        if (app.Services.GetService<GatewayMetrics>() is { } metrics)
        {
            app.MapMetrics("/metrics", metrics.Registry).AllowAnonymous();
        }

        app.MapCacheEndpoints();
        app.MapGatewayAdmin();
        app.MapModelInfoEndpoints();
        app.MapGatewayUi();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<PassThroughEndpointMiddleware>();
            proxy.UseGuardrailModerations();
            proxy.UseMiddleware<ModelRoutingMiddleware>();
            proxy.UseMiddleware<RetryAndFallbackMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
            proxy.UseMiddleware<UpstreamForwardingMiddleware>();
        });
        return app;
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port)
    {
        if (host is "localhost")
        {
            kestrel.ListenLocalhost(port);
        }
        else if (IPAddress.TryParse(host, out var address))
        {
            kestrel.Listen(address, port);
        }
        else
        {
            kestrel.ListenAnyIP(port);
        }
    }

    private static bool IsTrue(string? value) => value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    private static void ConfigureLogging(ILoggingBuilder logging, CommandLine commandLine, Func<string, string?> getEnv, bool json)
    {
        var level = (getEnv("LITELLM_LOG") ?? "").ToUpperInvariant() switch
        {
            "DEBUG" => LogLevel.Debug,
            "ERROR" => LogLevel.Error,
            "WARNING" or "WARN" => LogLevel.Warning,
            _ => LogLevel.Information,
        };
        if (commandLine.DetailedDebug)
        {
            level = LogLevel.Debug;
        }

        logging.ClearProviders();
        if (json)
        {
            // One JSON object per line: timestamp, level, category, message and every template value as its own property.
            logging.AddJsonConsole(options =>
            {
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                options.UseUtcTimestamp = true;
                options.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                options.UseUtcTimestamp = true;
            });
        }
        logging.SetMinimumLevel(level);
        // Framework request logging costs CPU on every request; it is only useful when debugging.
        var frameworkLevel = commandLine.DetailedDebug ? LogLevel.Information : LogLevel.Warning;
        logging.AddFilter("Microsoft", frameworkLevel);
        logging.AddFilter("Yarp", frameworkLevel);
        // The forwarder logs every failed upstream call at Warning with its stack trace; the gateway logs one short line
        // per failed attempt itself (RetryAndFallbackMiddleware), so YARP's copy is for debugging only.
        logging.AddFilter("Yarp.ReverseProxy.Forwarder", commandLine.DetailedDebug ? LogLevel.Debug : LogLevel.None);
        logging.AddFilter("System.Net.Http", frameworkLevel);
        // With any level enabled for it, hosting opens a log scope per request; nothing here prints scopes.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", commandLine.DetailedDebug ? LogLevel.Information : LogLevel.None);
    }

    private static partial class Log
    {
        [LoggerMessage(1010, LogLevel.Warning, "{Warning}")]
        public static partial void ConfigWarning(ILogger logger, string warning);

        [LoggerMessage(1011, LogLevel.Warning, "No master key configured (general_settings.master_key or LITELLM_MASTER_KEY): the gateway accepts every request without a key")]
        public static partial void OpenGateway(ILogger logger);
    }
}
