using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Host.Routing;

namespace Proxy.Host.Endpoints;

/// <summary>
/// LiteLLM's <c>GET /model/info</c>: every deployment of the snapshot in force (config file and stored models), with
/// secrets left out; <c>db_model</c> says which came from the database. <c>?litellm_model_id=</c> picks one.
/// </summary>
internal static class ModelInfoEndpoints
{
    public static IEndpointRouteBuilder MapModelInfoEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/model/info", WriteModelInfo);
        endpoints.MapGet("/v1/model/info", WriteModelInfo);
        return endpoints;
    }

    private static Task WriteModelInfo(HttpContext context, GatewayState state, StoredModelCatalog stored, IVirtualKeyAuthenticator keys, string? litellm_model_id)
    {
        var snapshot = state.Current;
        // A virtual key sees the deployments of the groups it may use, as in /v1/models.
        var request = GatewayRequestContext.Get(context);
        var key = request is { Caller.KeyHash: not null } ? request : null;
        var fromDatabase = stored.Models.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        context.Response.ContentType = "application/json";
        using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteStartArray("data"u8);
        var seen = new HashSet<ModelGroup>();
        foreach (var group in snapshot.VisibleGroupNames)
        {
            // An alias names the same group; its deployments are listed once.
            if (!snapshot.Groups.TryGetValue(group, out var modelGroup) || (key is not null && !keys.AllowsModel(key, group, modelGroup.Name)) || !seen.Add(modelGroup))
            {
                continue;
            }

            foreach (var route in modelGroup.Deployments)
            {
                var d = route.Deployment;
                if (litellm_model_id is not null && !string.Equals(d.Id, litellm_model_id, StringComparison.Ordinal))
                {
                    continue;
                }

                json.WriteStartObject();
                json.WriteString("model_name"u8, d.ModelGroup);
                json.WriteStartObject("litellm_params"u8);
                json.WriteString("model"u8, d.Provider.Length == 0 ? d.UpstreamModel : d.Provider + "/" + d.UpstreamModel);
                if (d.ApiBase is not null)
                {
                    json.WriteString("api_base"u8, d.ApiBase);
                }

                json.WriteNumber("input_cost_per_token"u8, d.InputCostPerToken);
                json.WriteNumber("output_cost_per_token"u8, d.OutputCostPerToken);
                WriteOptional(json, "rpm", d.Rpm);
                WriteOptional(json, "tpm", d.Tpm);
                json.WriteEndObject();
                json.WriteStartObject("model_info"u8);
                json.WriteString("id"u8, d.Id);
                json.WriteBoolean("db_model"u8, fromDatabase.Contains(d.Id));
                json.WriteString("mode"u8, "chat"u8);
                WriteOptional(json, "max_input_tokens", d.MaxInputTokens);
                json.WriteNumber("input_cost_per_token"u8, d.InputCostPerToken);
                json.WriteNumber("output_cost_per_token"u8, d.OutputCostPerToken);
                json.WriteString("litellm_provider"u8, d.Provider.Length == 0 ? "openai" : d.Provider);
                json.WriteEndObject();
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        return Task.CompletedTask;
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }
}
