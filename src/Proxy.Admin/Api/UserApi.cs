using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>LiteLLM's /user/* (internal users; master key only). /user/new also makes the user a key, as LiteLLM does unless auto_create_key is false.</summary>
internal sealed class UserApi(ITenantStore store, IKeyStore keyStore, TenantDirectory directory, KeyCache keys, AdminOptions options, TenantApiSupport api)
{
    private static readonly string[] Roles = ["proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer", "team", "customer"];

    public Task NewAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.String("user_id", 256) ?? TenantApiSupport.NewId();
        var row = new UserRow
        {
            UserId = id,
            UserRole = "internal_user",
            MaxBudget = options.MaxInternalUserBudget,
            BudgetDuration = options.InternalUserBudgetDuration,
            CreatedAt = api.NowMs,
            UpdatedAt = api.NowMs,
        };
        Apply(body, row, api.NowMs);
        var autoKey = body.Flag("auto_create_key") ?? true;
        if (await api.RejectedAsync(context, body) || !await ValidAsync(context, row))
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(id) || directory.TryUser(id, out _) || id == TenantDirectory.ProxyBudgetUserId)
        {
            await api.BadRequestAsync(context, $"User id = {id} already exists (or is reserved). Please use a different user_id.", "user_id");
            return;
        }

        await store.UpsertUserAsync(row, context.RequestAborted);
        var user = directory.Put(row);
        string? plainKey = null;
        KeyRow? keyRow = null;
        if (autoKey)
        {
            plainKey = KeyHasher.NewKey();
            keyRow = new KeyRow
            {
                Token = KeyHasher.Hash(plainKey),
                KeyName = KeyHasher.KeyName(plainKey),
                UserId = id,
                Models = row.Models,
                CreatedAt = api.NowMs,
                UpdatedAt = api.NowMs,
                CreatedBy = "default_user_id",
            };
            await keyStore.InsertKeyAsync(keyRow, context.RequestAborted);
            keys.Put(KeySettings.From(keyRow));
        }

        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            TenantJson.WriteUserMembers(json, row, user);
            if (plainKey is not null)
            {
                json.WriteString("key", plainKey);
                json.WriteString("token", keyRow!.Token);
                json.WriteString("key_name", keyRow.KeyName);
                json.WriteNull("expires");
            }

            json.WriteEndObject();
        });
    });

    public Task UpdateAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.String("user_id", 256);
        var email = body.String("user_email", 256);
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (Find(id, email) is not { } user)
        {
            await NotFoundAsync(context, id ?? email);
            return;
        }

        var row = directory.RowOf<UserRow>(user).Clone();
        Apply(body, row, api.NowMs);
        row.UpdatedAt = api.NowMs;
        if (await api.RejectedAsync(context, body) || !await ValidAsync(context, row))
        {
            return;
        }

        await store.UpsertUserAsync(row, context.RequestAborted);
        var updated = directory.Put(row);
        await TenantApiSupport.JsonAsync(context, json => TenantJson.WriteUser(json, row, updated));
    });

    public Task DeleteAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var ids = body.Strings("user_ids");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (ids is not { Length: > 0 })
        {
            await api.BadRequestAsync(context, "Pass 'user_ids': the users to delete.", "user_ids");
            return;
        }

        foreach (var id in ids)
        {
            if (!directory.TryUser(id, out _))
            {
                await NotFoundAsync(context, id);
                return;
            }
        }

        foreach (var id in ids)
        {
            await store.DeleteUserAsync(id, context.RequestAborted);
            foreach (var member in directory.Members.Where(m => m.Id == id).ToList())
            {
                directory.RemoveMember(member.TeamId!, id);
            }

            directory.RemoveUser(id);
        }

        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("deleted_users");
            foreach (var id in ids)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    public Task InfoAsync(HttpContext context) => api.RunAsync(context, async () =>
    {
        var id = TenantApiSupport.Query(context, "user_id");
        if (id is null)
        {
            await api.BadRequestAsync(context, "Pass ?user_id=...", "user_id");
            return;
        }

        if (!directory.TryUser(id, out var user))
        {
            await NotFoundAsync(context, id);
            return;
        }

        var row = directory.RowOf<UserRow>(user);
        var (userKeys, _) = await keyStore.ListKeysAsync(new KeyListQuery(null, id, null, 1, 1000), context.RequestAborted);
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("user_id", id);
            json.WritePropertyName("user_info");
            TenantJson.WriteUser(json, row, user);
            json.WriteStartArray("keys");
            foreach (var key in userKeys)
            {
                json.WriteStartObject();
                var live = keys.TryGet(key.Token, out var entry) ? entry : null;
                AdminJson.WriteKeyMembers(json, key, live?.Spend ?? key.Spend, live?.BudgetResetAtMs ?? key.BudgetResetAt);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("teams");
            foreach (var teamId in KeyJson.ReadStringArray(row.Teams))
            {
                if (directory.TryTeam(teamId, out var team))
                {
                    TenantJson.WriteTeam(json, directory.RowOf<TeamRow>(team), team);
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    public Task ListAsync(HttpContext context) => api.RunAsync(context, () =>
    {
        var query = context.Request.Query;
        var page = int.TryParse(query["page"], out var p) && p > 0 ? p : 1;
        var size = int.TryParse(query["page_size"], out var s) && s > 0 ? Math.Min(s, 1000) : 25;
        var role = TenantApiSupport.Query(context, "role");
        var all = directory.Users.Where(u => u.Id != TenantDirectory.ProxyBudgetUserId)
            .Select(u => (Entry: u, Row: directory.RowOf<UserRow>(u)))
            .Where(u => role is null || u.Row.UserRole == role)
            .OrderBy(u => u.Row.CreatedAt).ThenBy(u => u.Row.UserId, StringComparer.Ordinal).ToList();
        return TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("users");
            foreach (var (entry, row) in all.Skip((page - 1) * size).Take(size))
            {
                TenantJson.WriteUser(json, row, entry);
            }

            json.WriteEndArray();
            json.WriteNumber("total", all.Count);
            json.WriteNumber("page", page);
            json.WriteNumber("page_size", size);
            json.WriteNumber("total_pages", (all.Count + size - 1) / size);
            json.WriteEndObject();
        });
    });

    private TenantEntry? Find(string? id, string? email)
    {
        if (id is not null)
        {
            return directory.TryUser(id, out var user) ? user : null;
        }

        return email is null ? null : directory.Users.FirstOrDefault(u => string.Equals(directory.RowOf<UserRow>(u).UserEmail, email, StringComparison.OrdinalIgnoreCase));
    }

    private Task NotFoundAsync(HttpContext context, string? id) =>
        api.NotFoundAsync(context, $"User not found, passed user_id={id}. /user/list shows the users there are.");

    private async Task<bool> ValidAsync(HttpContext context, UserRow row)
    {
        if (row.UserRole is { } role && Array.IndexOf(Roles, role) < 0)
        {
            await api.BadRequestAsync(context, $"user_role must be one of {string.Join(", ", Roles)}.", "user_role");
            return false;
        }

        if (row.OrganizationId is { } org && !directory.TryOrganization(org, out _))
        {
            await api.BadRequestAsync(context, $"Organization not found, passed organization_id={org}.", "organization_id");
            return false;
        }

        foreach (var team in KeyJson.ReadStringArray(row.Teams))
        {
            if (!directory.TryTeam(team, out _))
            {
                await api.BadRequestAsync(context, $"Team not found, passed team_id={team}. Create it with /team/new.", "teams");
                return false;
            }
        }

        return true;
    }

    private static void Apply(TenantBody body, UserRow row, long nowMs)
    {
        if (body.Has("user_alias"))
        {
            row.UserAlias = body.String("user_alias");
        }

        if (body.Has("user_email"))
        {
            row.UserEmail = body.String("user_email", 256);
        }

        if (body.Has("user_role"))
        {
            row.UserRole = body.String("user_role", 64) ?? "internal_user";
        }

        if (body.Has("teams"))
        {
            row.Teams = TenantJson.Array(body.Strings("teams") ?? []);
        }

        if (body.Has("organization_id"))
        {
            row.OrganizationId = body.String("organization_id", 256);
        }

        if (body.Has("max_budget"))
        {
            row.MaxBudget = body.Money("max_budget");
        }

        if (body.Has("models"))
        {
            row.Models = TenantJson.Array(body.Strings("models") ?? []);
        }

        if (body.Has("tpm_limit"))
        {
            row.TpmLimit = body.Whole("tpm_limit");
        }

        if (body.Has("rpm_limit"))
        {
            row.RpmLimit = body.Whole("rpm_limit");
        }

        if (body.Has("max_parallel_requests"))
        {
            row.MaxParallelRequests = body.Whole("max_parallel_requests");
        }

        if (body.Has("metadata"))
        {
            row.Metadata = body.Object("metadata") ?? "{}";
        }

        if (body.Has("model_max_budget"))
        {
            row.ModelMaxBudget = body.ModelMaxBudget() ?? "{}";
        }

        if (body.Has("budget_duration") || (row.BudgetDuration is not null && row.BudgetResetAt is null))
        {
            var duration = body.Has("budget_duration") ? body.Duration("budget_duration") : row.BudgetDuration;
            row.BudgetDuration = duration;
            row.BudgetResetAt = duration is not null && BudgetDuration.TryParse(duration, out var window) ? nowMs + (long)window.TotalMilliseconds : null;
        }
    }
}
