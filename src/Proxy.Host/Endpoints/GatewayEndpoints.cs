using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Host.Hosting;
using Proxy.Host.Routing;

namespace Proxy.Host.Endpoints;

/// <summary>The endpoints the gateway answers itself: model listing and health.</summary>
internal static class GatewayEndpoints
{
    public static IEndpointRouteBuilder MapGatewayEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/models", WriteModels);
        endpoints.MapGet("/models", WriteModels);
        // Catch-all: model names have slashes (hosted_vllm/Qwen/Qwen3-8B through a wildcard group).
        endpoints.MapGet("/v1/models/{**model}", WriteModel);
        endpoints.MapGet("/models/{**model}", WriteModel);

        endpoints.MapGet("/health/liveliness", WriteAlive).AllowAnonymous();
        endpoints.MapGet("/health/liveness", WriteAlive).AllowAnonymous();
        endpoints.MapGet("/health/readiness", WriteReadiness).AllowAnonymous();
        return endpoints;
    }

    private static Task WriteModels(HttpContext context, GatewayState state, IVirtualKeyAuthenticator keys, ProviderModelDiscovery discovery, bool? return_wildcard_routes)
    {
        var snapshot = state.Current;
        context.Response.ContentType = "application/json";
        var request = GatewayRequestContext.Get(context);
        var perKey = request is { Caller.KeyHash: not null };
        if (!perKey && !snapshot.Wildcards.Any)
        {
            var all = snapshot.ModelsListJson;
            context.Response.ContentLength = all.Length;
            return context.Response.Body.WriteAsync(all, context.RequestAborted).AsTask();
        }

        // A virtual key sees the groups (and aliases) it may use, as LiteLLM lists them per key. A wildcard group is
        // listed by the models its upstreams serve (check_provider_endpoint), its pattern only on request
        // (LiteLLM's return_wildcard_routes).
        using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("object"u8, "list"u8);
        json.WriteStartArray("data"u8);
        foreach (var name in snapshot.VisibleGroupNames)
        {
            if ((return_wildcard_routes == true || !WildcardGroups.IsPattern(name)) && snapshot.Groups.TryGetValue(name, out var group)
                && (!perKey || keys.AllowsModel(request!, name, group.Name)))
            {
                SnapshotBuilder.WriteModelEntry(json, name);
            }
        }

        var discovered = discovery.Models;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in snapshot.Wildcards.Groups)
        {
            if (!discovered.TryGetValue(group.Name, out var ids))
            {
                continue;
            }

            foreach (var id in ids)
            {
                if (WildcardGroups.ListedName(group.Name, id) is { } name && !snapshot.Groups.ContainsKey(name)
                    && (!perKey || keys.AllowsModel(request!, name, group.Name)) && listed.Add(name))
                {
                    SnapshotBuilder.WriteModelEntry(json, name);
                }
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        return Task.CompletedTask;
    }

    private static Task WriteModel(HttpContext context, string model, GatewayState state, IOpenAiErrorWriter errors)
    {
        var snapshot = state.Current;
        if (!snapshot.TryResolveGroup(model, out _, out _))
        {
            return errors.WriteAsync(context, new GatewayError(404, "invalid_request_error",
                $"The model '{model}' does not exist on this gateway; GET /v1/models lists the available ones.", "model"));
        }

        context.Response.ContentType = "application/json";
        using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("id"u8, model);
        json.WriteString("object"u8, "model"u8);
        json.WriteNumber("created"u8, 1677610602);
        json.WriteString("owned_by"u8, "openai"u8);
        json.WriteEndObject();
        json.Flush();
        return Task.CompletedTask;
    }

    // LiteLLM answers liveliness with this JSON string; probes written for it compare the text.
    private static Task WriteAlive(HttpContext context)
    {
        // The bytes themselves: TypedResults.Json would serialise the string by reflection, which Native AOT cannot.
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.Body.WriteAsync(AliveBody, context.RequestAborted).AsTask();
    }

    private static readonly ReadOnlyMemory<byte> AliveBody = "\"I'm alive!\""u8.ToArray();

    private static Task WriteReadiness(
        HttpContext context, GatewayState state, Transforms.Caching.ResponseCache cache, Transforms.Caching.Semantic.SemanticCache semantic,
        IEnumerable<IReadinessContributor> contributors)
    {
        var snapshot = state.Current;
        var reload = state.LastReload;
        // Anonymous (probes call it): the config's path and reload errors (paths, lines, values) only for the master key.
        var admin = snapshot.MasterKey.Matches(Auth.GatewayAuthMiddleware.PresentedKey(context.Request.Headers, snapshot.Config.GeneralSettings.LitellmKeyHeaderName));
        context.Response.ContentType = "application/json";
        using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("status"u8, "healthy"u8);
        var db = contributors.FirstOrDefault(c => c.Name == "db");
        json.WritePropertyName("db"u8);
        if (db is null)
        {
            json.WriteStringValue("Not connected"u8);
        }
        else
        {
            db.WriteValue(json);
        }

        Caching.CacheReadiness.Write(json, cache, semantic);
        json.WriteString("litellm_version"u8, GatewayVersion.Value);
        json.WriteStartArray("success_callbacks"u8);
        json.WriteEndArray();
        json.WriteString("last_updated"u8, snapshot.LoadedAt);
        json.WriteStartObject("config"u8);
        if (admin)
        {
            json.WriteString("path"u8, snapshot.Config.SourcePath);
        }

        json.WriteNumber("version"u8, snapshot.Version);
        json.WriteString("loaded_at"u8, snapshot.LoadedAt);
        json.WriteNumber("model_groups"u8, snapshot.VisibleGroupNames.Count);
        json.WriteNumber("deployments"u8, snapshot.Deployments.Count);
        json.WriteStartObject("last_reload"u8);
        json.WriteString("at"u8, reload.At);
        json.WriteString("status"u8, reload.Succeeded ? "ok"u8 : "failed"u8);
        json.WriteNumber("config_version"u8, reload.ConfigVersion);
        json.WriteNumber("warnings"u8, reload.Warnings);
        json.WriteNumber("error_count"u8, reload.Errors.Count);
        if (admin)
        {
            json.WriteStartArray("errors"u8);
            foreach (var error in reload.Errors)
            {
                json.WriteStringValue(error);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        foreach (var contributor in contributors)
        {
            if (contributor.Name != "db")
            {
                json.WritePropertyName(contributor.Name);
                contributor.WriteValue(json);
            }
        }

        json.WriteEndObject();
        json.Flush();
        return Task.CompletedTask;
    }
}
