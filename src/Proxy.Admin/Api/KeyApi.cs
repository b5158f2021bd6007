using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Spend;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Api;

/// <summary>
/// LiteLLM's /key/* API (master key only, except /key/info on the caller's own key). A key is returned once, by
/// generate and regenerate; the store and every other answer only know its sha256 hash.
/// </summary>
internal sealed class KeyApi(IKeyStore store, KeyCache cache, SpendQueue spendQueue, IOpenAiErrorWriter errors, TimeProvider time, Tenants.TenantDirectory tenants)
{
    private const int MaxListSize = 1000;

    public Task GenerateAsync(HttpContext context) => RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } request)
        {
            return;
        }

        var key = request.Key ?? KeyHasher.NewKey();
        if (!key.StartsWith("sk-", StringComparison.Ordinal) || key.Length < 8 || key.Length > 256)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("key must start with 'sk-' and be 8 to 256 characters long.", "key"));
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new KeyRow
        {
            Token = KeyHasher.Hash(key),
            KeyName = KeyHasher.KeyName(key),
            Spend = request.Spend.IsSet ? request.Spend.Value : 0,
            CreatedAt = now,
            UpdatedAt = now,
            CreatedBy = "default_user_id",
        };
        if (Apply(request, row, now) is { } invalid)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest(invalid));
            return;
        }

        if (await store.FindKeyAsync(row.Token, context.RequestAborted) is not null)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("A key with this value already exists; pick another 'key' or leave it out.", "key"));
            return;
        }

        await store.InsertKeyAsync(row, context.RequestAborted);
        var entry = cache.Put(KeySettings.From(row));
        await WriteKeyAsync(context, entry, row, plainKey: key);
    });

    public Task UpdateAsync(HttpContext context) => RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } request)
        {
            return;
        }

        if (request.Key is null)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("Pass the key to update as 'key' (the sk- key or its hash).", "key"));
            return;
        }

        await ChangeAsync(context, KeyHasher.TokenOf(request.Key), row => Apply(request, row, time.GetUtcNow().ToUnixTimeMilliseconds()));
    });

    public Task BlockAsync(HttpContext context) => SetBlockedAsync(context, blocked: true);

    public Task UnblockAsync(HttpContext context) => SetBlockedAsync(context, blocked: false);

    public Task DeleteAsync(HttpContext context) => RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } request)
        {
            return;
        }

        var tokens = new List<string>();
        var deletedNames = new List<string>();
        foreach (var key in request.Keys)
        {
            tokens.Add(KeyHasher.TokenOf(key));
            deletedNames.Add(key);
        }

        foreach (var alias in request.KeyAliases)
        {
            foreach (var row in await store.FindKeysByAliasAsync(alias, context.RequestAborted))
            {
                tokens.Add(row.Token);
                deletedNames.Add(alias);
            }
        }

        if (tokens.Count == 0)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("Pass 'keys' (sk- keys or hashes) or 'key_aliases' naming at least one existing key.", "keys"));
            return;
        }

        var deleted = await store.DeleteKeysAsync(tokens, context.RequestAborted);
        foreach (var token in tokens)
        {
            cache.Remove(token);
        }

        if (deleted == 0)
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("None of the keys exist; /key/list shows the keys there are."));
            return;
        }

        await WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("deleted_keys");
            foreach (var name in deletedNames)
            {
                json.WriteStringValue(name);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    public Task InfoAsync(HttpContext context) => RunAsync(context, adminOnly: false, async () =>
    {
        var caller = GatewayRequestContext.Get(context);
        var asked = context.Request.Query["key"].ToString();
        string token;
        if (asked.Length == 0)
        {
            if (caller?.Caller.KeyHash is not { } own)
            {
                await errors.WriteAsync(context, KeyErrors.BadRequest("Pass ?key=sk-... (or its hash); the master key has no key info of its own.", "key"));
                return;
            }

            token = own;
        }
        else
        {
            token = KeyHasher.TokenOf(asked);
        }

        // A virtual key may read its own info only, as in LiteLLM.
        if (caller?.Caller.KeyHash is { } callerHash && !string.Equals(callerHash, token, StringComparison.Ordinal))
        {
            await errors.WriteAsync(context, KeyErrors.AdminOnly("/key/info for another key"));
            return;
        }

        var row = await store.FindKeyAsync(token, context.RequestAborted);
        if (row is null)
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("Key not found; /key/list shows the keys there are."));
            return;
        }

        var (spend, resetAt) = Live(row);
        await WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("key", row.Token);
            json.WriteStartObject("info");
            AdminJson.WriteKeyMembers(json, row, spend, resetAt);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    });

    public Task ListAsync(HttpContext context) => RunAsync(context, adminOnly: true, async () =>
    {
        var query = context.Request.Query;
        var page = int.TryParse(query["page"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p > 0 ? p : 1;
        var size = int.TryParse(query["size"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0 ? Math.Min(s, MaxListSize) : 10;
        var full = string.Equals(query["return_full_object"], "true", StringComparison.OrdinalIgnoreCase);
        var filter = new KeyListQuery(NullIfEmpty(query["key_alias"]), NullIfEmpty(query["user_id"]), NullIfEmpty(query["team_id"]), page, size);
        var (rows, total) = await store.ListKeysAsync(filter, context.RequestAborted);
        await WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var row in rows)
            {
                if (!full)
                {
                    json.WriteStringValue(row.Token);
                    continue;
                }

                var (spend, resetAt) = Live(row);
                json.WriteStartObject();
                AdminJson.WriteKeyMembers(json, row, spend, resetAt);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("total_count", total);
            json.WriteNumber("current_page", page);
            json.WriteNumber("total_pages", (total + size - 1) / size);
            json.WriteEndObject();
        });
    });

    public Task RegenerateAsync(HttpContext context) => RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context, allowEmpty: true) is not { } request)
        {
            return;
        }

        var named = context.Request.RouteValues.TryGetValue("key", out var fromPath) && fromPath is string path ? path : request.Key;
        if (named is null)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("Pass the key to regenerate as 'key' or in the path /key/{key}/regenerate.", "key"));
            return;
        }

        var oldToken = KeyHasher.TokenOf(named);
        var row = await store.FindKeyAsync(oldToken, context.RequestAborted);
        if (row is null)
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("Key not found; /key/list shows the keys there are."));
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var newKey = KeyHasher.NewKey();
        var updated = row.Clone();
        updated.Token = KeyHasher.Hash(newKey);
        updated.KeyName = KeyHasher.KeyName(newKey);
        updated.UpdatedAt = now;
        if (Apply(request, updated, now) is { } invalid)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest(invalid));
            return;
        }

        if (!await store.ReplaceTokenAsync(oldToken, updated.Token, updated.KeyName!, now, context.RequestAborted))
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("Key not found; /key/list shows the keys there are."));
            return;
        }

        await store.UpdateKeyAsync(updated, context.RequestAborted);
        var spend = cache.TryGet(oldToken, out var old) ? old.Spend : row.Spend;
        cache.Remove(oldToken);
        // Spend not written yet would go to the old token, which no longer exists: it moves with the key. (Spend the
        // writer is writing at this very moment under the old token is lost to the stored total; it is in the log rows.)
        var carried = old?.TakePending();
        updated.Spend = spend;
        var entry = cache.Put(KeySettings.From(updated));
        if (carried is not null && entry.CarryPending(carried))
        {
            spendQueue.MarkDirty(entry);
        }

        await WriteKeyAsync(context, entry, updated, plainKey: newKey);
    });

    private Task SetBlockedAsync(HttpContext context, bool blocked) => RunAsync(context, adminOnly: true, async () =>
    {
        if (await ReadAsync(context) is not { } request)
        {
            return;
        }

        if (request.Key is null)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest("Pass the key as 'key' (the sk- key or its hash).", "key"));
            return;
        }

        await ChangeAsync(context, KeyHasher.TokenOf(request.Key), row =>
        {
            row.Blocked = blocked ? 1 : 0;
            row.UpdatedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
            return null;
        });
    });

    private async Task ChangeAsync(HttpContext context, string token, Func<KeyRow, string?> change)
    {
        var row = await store.FindKeyAsync(token, context.RequestAborted);
        if (row is null)
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("Key not found; /key/list shows the keys there are."));
            return;
        }

        if (change(row) is { } invalid)
        {
            await errors.WriteAsync(context, KeyErrors.BadRequest(invalid));
            return;
        }

        if (!await store.UpdateKeyAsync(row, context.RequestAborted))
        {
            await errors.WriteAsync(context, KeyErrors.NotFound("Key not found; /key/list shows the keys there are."));
            return;
        }

        var entry = cache.Put(KeySettings.From(row));
        await WriteKeyAsync(context, entry, row, plainKey: null);
    }

    /// <summary>Applies the fields present in the request to the row; a message when a value is not acceptable.</summary>
    private string? Apply(KeyRequest request, KeyRow row, long nowMs) => ApplyTenants(request, row) ?? ApplyOwn(request, row, nowMs);

    /// <summary>team_id, user_id's team membership, organization_id, budget_id and the per-model fields.</summary>
    private string? ApplyTenants(KeyRequest request, KeyRow row)
    {
        if (request.TeamId is { IsSet: true, Value: { } teamId } && !tenants.TryTeam(teamId, out _))
        {
            return $"Team not found, passed team_id={teamId}. Create it with /team/new first.";
        }

        if (request.OrganizationId.IsSet)
        {
            if (request.OrganizationId.Value is { } org && !tenants.TryOrganization(org, out _))
            {
                return $"Organization not found, passed organization_id={org}. Create it with /organization/new first.";
            }

            row.OrganizationId = request.OrganizationId.Value;
        }

        if (request.BudgetId.IsSet)
        {
            if (request.BudgetId.Value is { } budget && !tenants.TryBudget(budget, out _))
            {
                return $"Budget not found, passed budget_id={budget}. Create it with /budget/new first.";
            }

            row.BudgetId = request.BudgetId.Value;
        }

        if (request.SoftBudget.IsSet)
        {
            row.SoftBudget = request.SoftBudget.Value;
        }

        if (request.ModelMaxBudget.IsSet)
        {
            row.ModelMaxBudget = request.ModelMaxBudget.Value;
        }

        return null;
    }

    private static string? ApplyOwn(KeyRequest request, KeyRow row, long nowMs)
    {
        if (request.KeyAlias.IsSet)
        {
            row.KeyAlias = request.KeyAlias.Value;
        }

        if (request.Duration.IsSet)
        {
            if (request.Duration.Value is null)
            {
                row.Expires = null;
            }
            else if (BudgetDuration.TryParse(request.Duration.Value, out var duration))
            {
                row.Expires = nowMs + (long)duration.TotalMilliseconds;
            }
            else
            {
                return "duration must look like \"30s\", \"30m\", \"30h\", \"30d\" or \"1mo\" (or be null for a key that never expires).";
            }
        }

        if (request.BudgetDuration.IsSet)
        {
            if (request.BudgetDuration.Value is null)
            {
                row.BudgetDuration = null;
                row.BudgetResetAt = null;
            }
            else if (BudgetDuration.TryParse(request.BudgetDuration.Value, out var window))
            {
                row.BudgetDuration = request.BudgetDuration.Value;
                row.BudgetResetAt = nowMs + (long)window.TotalMilliseconds;
            }
            else
            {
                return "budget_duration must look like \"30s\", \"30m\", \"30h\", \"30d\" or \"1mo\".";
            }
        }

        if (request.Models.IsSet)
        {
            row.Models = KeyJson.WriteStringArray(request.Models.Value);
        }

        if (request.MaxBudget.IsSet)
        {
            row.MaxBudget = request.MaxBudget.Value;
        }

        if (request.TpmLimit.IsSet)
        {
            row.TpmLimit = request.TpmLimit.Value;
        }

        if (request.RpmLimit.IsSet)
        {
            row.RpmLimit = request.RpmLimit.Value;
        }

        if (request.MaxParallelRequests.IsSet)
        {
            row.MaxParallelRequests = request.MaxParallelRequests.Value;
        }

        if (request.Metadata.IsSet)
        {
            row.Metadata = request.Metadata.Value;
        }

        if (request.Guardrails.IsSet)
        {
            row.Metadata = KeyJson.WithGuardrails(row.Metadata, request.Guardrails.Value);
        }

        if (request.ModelRpmLimit.IsSet)
        {
            row.Metadata = KeyJson.WithMember(row.Metadata, "model_rpm_limit", request.ModelRpmLimit.Value);
        }

        if (request.ModelTpmLimit.IsSet)
        {
            row.Metadata = KeyJson.WithMember(row.Metadata, "model_tpm_limit", request.ModelTpmLimit.Value);
        }

        if (request.UserId.IsSet)
        {
            row.UserId = request.UserId.Value;
        }

        if (request.TeamId.IsSet)
        {
            row.TeamId = request.TeamId.Value;
        }

        if (request.Blocked.IsSet)
        {
            row.Blocked = request.Blocked.Value ? 1 : 0;
        }

        row.UpdatedAt = nowMs;
        return null;
    }

    private (double Spend, long? ResetAt) Live(KeyRow row) =>
        cache.TryGet(row.Token, out var entry) ? (entry.Spend, entry.BudgetResetAtMs) : (row.Spend, row.BudgetResetAt);

    private static Task WriteKeyAsync(HttpContext context, KeyEntry entry, KeyRow row, string? plainKey) =>
        WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            if (plainKey is not null)
            {
                json.WriteString("key", plainKey);
                json.WriteString("token_id", row.Token);
            }
            else
            {
                json.WriteString("key", row.Token);
            }

            AdminJson.WriteKeyMembers(json, row, entry.Spend, entry.BudgetResetAtMs);
            json.WriteEndObject();
        });

    private async Task<KeyRequest?> ReadAsync(HttpContext context, bool allowEmpty = false)
    {
        JsonDocument document;
        try
        {
            if (allowEmpty && context.Request.ContentLength is null or 0 && !context.Request.Headers.ContainsKey("Transfer-Encoding"))
            {
                document = JsonDocument.Parse("{}");
            }
            else
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, AdminJson.BodyOptions, context.RequestAborted);
            }
        }
        catch (JsonException ex)
        {
            await errors.WriteAsync(context, GatewayError.InvalidJson(ex.Message));
            return null;
        }

        using (document)
        {
            if (KeyRequest.TryParse(document.RootElement, out var request) is { } invalid)
            {
                await errors.WriteAsync(context, KeyErrors.BadRequest(invalid));
                return null;
            }

            return request;
        }
    }

    internal static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            write(json);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    internal async Task RunAsync(HttpContext context, bool adminOnly, Func<Task> handler)
    {
        if (adminOnly && GatewayRequestContext.Get(context)?.Caller.KeyHash is not null)
        {
            await errors.WriteAsync(context, KeyErrors.AdminOnly(context.Request.Path.Value ?? ""));
            return;
        }

        try
        {
            await handler();
        }
        catch (StoreUnavailableException ex)
        {
            await errors.WriteAsync(context, KeyErrors.StoreDown(ex.InnerException?.Message ?? ex.Message));
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
