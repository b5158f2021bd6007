using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Api;
using Proxy.Admin.Budgets;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Models;

/// <summary>
/// LiteLLM's /model/new, /model/update and /model/delete (master key, STORE_MODEL_IN_DB): the model is validated
/// like a config entry, stored, and applied at once through a new snapshot.
/// </summary>
internal sealed class ModelApi(
    IKeyStore store, StoredModelCatalog catalog, AdminOptions options, KeyApi keys, IOpenAiErrorWriter errors, TimeProvider time, StoredModelSecrets secrets)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public Task NewAsync(HttpContext context) => keys.RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } body)
        {
            return;
        }

        var name = body["model_name"]?.GetValueKind() == JsonValueKind.String ? body["model_name"]!.GetValue<string>() : null;
        if (string.IsNullOrWhiteSpace(name) || body["litellm_params"] is not JsonObject)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("Send {\"model_name\": \"...\", \"litellm_params\": {\"model\": \"...\", ...}, \"model_info\": {...}}.", "model_name"));
            return;
        }

        var info = body["model_info"] as JsonObject ?? [];
        var id = info["id"]?.GetValueKind() == JsonValueKind.String ? info["id"]!.GetValue<string>() : Guid.NewGuid().ToString();
        info["id"] = id;
        info["db_model"] = true;
        await SaveAsync(context, new StoredModel(id, name, body["litellm_params"]!.ToJsonString(), info.ToJsonString()), replacing: null);
    });

    public Task UpdateAsync(HttpContext context) => keys.RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } body)
        {
            return;
        }

        var id = (body["model_info"] as JsonObject)?["id"]?.GetValueKind() == JsonValueKind.String ? body["model_info"]!["id"]!.GetValue<string>()
            : body["id"]?.GetValueKind() == JsonValueKind.String ? body["id"]!.GetValue<string>() : null;
        var existing = id is null ? null : catalog.Models.FirstOrDefault(m => m.Id == id);
        if (existing is null)
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("No stored model has this model_info.id; only models added with /model/new can be updated."));
            return;
        }

        // As LiteLLM: the given litellm_params and model_info members replace the stored ones, the rest stay.
        var parameters = Merge(existing.LitellmParamsJson, body["litellm_params"] as JsonObject);
        var info = Merge(existing.ModelInfoJson, body["model_info"] as JsonObject);
        info["id"] = existing.Id;
        info["db_model"] = true;
        var name = body["model_name"]?.GetValueKind() == JsonValueKind.String ? body["model_name"]!.GetValue<string>() : existing.ModelName;
        await SaveAsync(context, new StoredModel(existing.Id, name, parameters.ToJsonString(), info.ToJsonString()), replacing: existing.Id);
    });

    public Task DeleteAsync(HttpContext context) => keys.RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } body)
        {
            return;
        }

        var id = body["id"]?.GetValueKind() == JsonValueKind.String ? body["id"]!.GetValue<string>() : null;
        if (id is null)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("Send {\"id\": \"<model_info.id>\"}.", "id"));
            return;
        }

        await _gate.WaitAsync(context.RequestAborted);
        try
        {
            if (!await store.DeleteModelAsync(id, context.RequestAborted))
            {
                await errors.WriteAsync(context, KeyErrors.NotFound("No stored model has this id; only models added with /model/new can be deleted."));
                return;
            }

            catalog.Replace([.. catalog.Models.Where(m => m.Id != id)]);
        }
        finally
        {
            _gate.Release();
        }

        await KeyApi.WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("message", $"Model: {id} deleted successfully");
            json.WriteEndObject();
        });
    });

    /// <summary>The rows as the gateway uses them (api_key decrypted); a row that cannot be decrypted is left out and named.</summary>
    internal static IReadOnlyList<StoredModel> ToStored(IReadOnlyList<ModelRow> rows, StoredSecretCipher? cipher, List<string>? undecryptable = null)
    {
        var models = new List<StoredModel>(rows.Count);
        foreach (var row in rows)
        {
            var parameters = row.LitellmParams;
            if (cipher is not null && !cipher.TryOpen(parameters, out parameters))
            {
                undecryptable?.Add(row.ModelId);
                continue;
            }

            models.Add(new StoredModel(row.ModelId, row.ModelName, parameters, row.ModelInfo));
        }

        return models;
    }

    private async Task SaveAsync(HttpContext context, StoredModel model, string? replacing)
    {
        await _gate.WaitAsync(context.RequestAborted);
        try
        {
            List<StoredModel> next = [.. catalog.Models.Where(m => m.Id != (replacing ?? model.Id)), model];
            if (catalog.Validate([model]) is { Count: > 0 } problems)
            {
                await errors.WriteAsync(context, KeyErrors.BadRequest("The model would not load: " + string.Join("; ", problems)));
                return;
            }

            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            await store.UpsertModelAsync(new ModelRow
            {
                ModelId = model.Id,
                ModelName = model.ModelName,
                // Encrypted at rest; the catalog (in memory) keeps the plaintext the gateway needs.
                LitellmParams = secrets.Cipher?.Seal(model.LitellmParamsJson) ?? model.LitellmParamsJson,
                ModelInfo = model.ModelInfoJson,
                CreatedAt = now,
                UpdatedAt = now,
            }, context.RequestAborted);
            catalog.Replace(next);
        }
        finally
        {
            _gate.Release();
        }

        await KeyApi.WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("model_id", model.Id);
            json.WriteString("model_name", model.ModelName);
            json.WritePropertyName("litellm_params");
            WithoutSecrets(JsonNode.Parse(model.LitellmParamsJson)!.AsObject()).WriteTo(json);
            json.WritePropertyName("model_info");
            json.WriteRawValue(model.ModelInfoJson);
            json.WriteEndObject();
        });
    }

    private async Task<JsonObject?> ReadAsync(HttpContext context)
    {
        if (!options.StoreModelInDb)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest(
                "Models can only be added, updated or deleted through the API with STORE_MODEL_IN_DB=True (or general_settings.store_model_in_db: true); otherwise edit the config file, which is reloaded on save."));
            return null;
        }

        try
        {
            if (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) is JsonObject body)
            {
                return body;
            }
        }
        catch (JsonException ex)
        {
            await errors.WriteAsync(context, GatewayError.InvalidJson(ex.Message));
            return null;
        }

        await errors.WriteAsync(context, GatewayError.NotAnObject());
        return null;
    }

    private static JsonObject Merge(string storedJson, JsonObject? changes)
    {
        var merged = JsonNode.Parse(storedJson) as JsonObject ?? [];
        if (changes is not null)
        {
            foreach (var (name, value) in changes)
            {
                merged[name] = value?.DeepClone();
            }
        }

        return merged;
    }

    // Stored models may carry an api_key (or another credential); like LiteLLM's /model/info, answers never show one.
    internal static JsonObject WithoutSecrets(JsonObject parameters)
    {
        foreach (var name in parameters.Select(p => p.Key).ToList())
        {
            if (IsSecretName(name))
            {
                parameters[name] = "***";
            }
        }

        return parameters;
    }

    private static bool IsSecretName(string name) =>
        name.EndsWith("key", StringComparison.OrdinalIgnoreCase) || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.EndsWith("_token", StringComparison.OrdinalIgnoreCase)
        || name.Equals("token", StringComparison.OrdinalIgnoreCase) || name.Contains("credential", StringComparison.OrdinalIgnoreCase);
}
