using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>
/// LiteLLM's /team/* (master key only): teams with budgets, limits and model access; members with roles and a budget
/// each (max_budget_in_team, kept as a budget row per membership as LiteLLM does). Changes are written to the store and
/// applied to the in-memory directory at once.
/// </summary>
internal sealed class TeamApi(ITenantStore store, IKeyStore keyStore, TenantDirectory directory, KeyCache keys, TenantApiSupport api)
{
    public Task NewAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.String("team_id", 256) ?? TenantApiSupport.NewId();
        var row = new TeamRow { TeamId = id, CreatedAt = api.NowMs, UpdatedAt = api.NowMs };
        Apply(body, row);
        var members = ReadMembers(body, body.Has("members_with_roles") ? "members_with_roles" : "members");
        if (await api.RejectedAsync(context, body) || !await ValidAsync(context, row))
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(id))
        {
            await api.BadRequestAsync(context, "team_id must not be empty; leave it out to get a generated one.", "team_id");
            return;
        }

        if (directory.TryTeam(id, out _))
        {
            await api.BadRequestAsync(context, $"Team id = {id} already exists. Please use a different team id.", "team_id");
            return;
        }

        row.MembersWithRoles = "[]";
        await store.UpsertTeamAsync(row, context.RequestAborted);
        var team = directory.Put(row);
        if (members.Count > 0)
        {
            await AddMembersAsync(context, row, members, null);
        }

        await TenantApiSupport.JsonAsync(context, json => TenantJson.WriteTeam(json, directory.RowOf<TeamRow>(team), team));
    });

    public Task UpdateAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } found)
        {
            return;
        }

        var row = found.Clone();
        Apply(body, row);
        row.UpdatedAt = api.NowMs;
        if (await api.RejectedAsync(context, body) || !await ValidAsync(context, row))
        {
            return;
        }

        await store.UpsertTeamAsync(row, context.RequestAborted);
        var team = directory.Put(row);
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("team_id", row.TeamId);
            json.WritePropertyName("data");
            TenantJson.WriteTeam(json, row, team);
            json.WriteEndObject();
        });
    });

    public Task DeleteAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var ids = body.Strings("team_ids");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (ids is not { Length: > 0 })
        {
            await api.BadRequestAsync(context, "Pass 'team_ids': the teams to delete.", "team_ids");
            return;
        }

        foreach (var id in ids)
        {
            if (!directory.TryTeam(id, out _))
            {
                await api.NotFoundAsync(context, $"Team not found, passed team_id={id}. /team/list shows the teams there are.");
                return;
            }
        }

        var deletedKeys = 0;
        foreach (var id in ids)
        {
            // LiteLLM deletes a team's keys with it: a key must never outlive the budget it was made under.
            foreach (var token in await store.DeleteKeysOfTeamAsync(id, context.RequestAborted))
            {
                keys.Remove(token);
                deletedKeys++;
            }

            await store.DeleteTeamAsync(id, context.RequestAborted);
            directory.RemoveTeam(id);
        }

        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("deleted_teams");
            foreach (var id in ids)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
            json.WriteNumber("deleted_keys", deletedKeys);
            json.WriteEndObject();
        });
    });

    public Task InfoAsync(HttpContext context) => api.RunAsync(context, async () =>
    {
        if (TenantApiSupport.Query(context, "team_id") is not { } id)
        {
            await api.BadRequestAsync(context, "Pass ?team_id=...", "team_id");
            return;
        }

        if (!directory.TryTeam(id, out var team))
        {
            await api.NotFoundAsync(context, $"Team not found, passed team_id={id}. /team/list shows the teams there are.");
            return;
        }

        var (teamKeys, _) = await keyStore.ListKeysAsync(new KeyListQuery(null, null, id, 1, 1000), context.RequestAborted);
        var row = directory.RowOf<TeamRow>(team);
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("team_id", id);
            json.WritePropertyName("team_info");
            TenantJson.WriteTeam(json, row, team);
            json.WriteStartArray("keys");
            foreach (var key in teamKeys)
            {
                json.WriteStartObject();
                var live = keys.TryGet(key.Token, out var entry) ? entry : null;
                AdminJson.WriteKeyMembers(json, key, live?.Spend ?? key.Spend, live?.BudgetResetAtMs ?? key.BudgetResetAt);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("team_memberships");
            foreach (var member in directory.Members)
            {
                if (string.Equals(member.TeamId, id, StringComparison.Ordinal))
                {
                    var membership = directory.RowOf<MembershipRow>(member);
                    TenantJson.WriteMembership(json, membership, member, membership.BudgetId is { } b && directory.TryBudget(b, out var budget) ? budget : null);
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    public Task ListAsync(HttpContext context) => api.RunAsync(context, async () =>
    {
        var userId = TenantApiSupport.Query(context, "user_id");
        var organizationId = TenantApiSupport.Query(context, "organization_id");
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartArray();
            foreach (var team in Sorted())
            {
                var row = directory.RowOf<TeamRow>(team);
                if ((userId is not null && !directory.TryMember(team.Id, userId, out _))
                    || (organizationId is not null && !string.Equals(row.OrganizationId, organizationId, StringComparison.Ordinal)))
                {
                    continue;
                }

                TenantJson.WriteTeam(json, row, team);
            }

            json.WriteEndArray();
        });
    });

    /// <summary>Teams a user may join: those whose metadata says "available_team": true (LiteLLM reads its config for these).</summary>
    public Task AvailableAsync(HttpContext context) => api.RunAsync(context, () => TenantApiSupport.JsonAsync(context, json =>
    {
        json.WriteStartArray();
        foreach (var team in Sorted())
        {
            var row = directory.RowOf<TeamRow>(team);
            if (row.Metadata.Contains("\"available_team\":true", StringComparison.Ordinal) || row.Metadata.Contains("\"available_team\": true", StringComparison.Ordinal))
            {
                TenantJson.WriteTeam(json, row, team);
            }
        }

        json.WriteEndArray();
    }));

    public Task BlockAsync(HttpContext context) => SetBlockedAsync(context, true);

    public Task UnblockAsync(HttpContext context) => SetBlockedAsync(context, false);

    public Task MemberAddAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } found)
        {
            return;
        }

        var members = ReadMembers(body, "member");
        var maxInTeam = body.Money("max_budget_in_team");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (members.Count == 0)
        {
            await api.BadRequestAsync(context, "Pass 'member': {\"role\": \"user\", \"user_id\": \"...\"} (or a list of them).", "member");
            return;
        }

        foreach (var member in members)
        {
            if (member.UserId is null && member.UserEmail is null)
            {
                await api.BadRequestAsync(context, "Each member needs a user_id or a user_email.", "member");
                return;
            }

            if (member.UserId is { } uid && directory.TryMember(found.TeamId, uid, out _))
            {
                await api.BadRequestAsync(context, $"User={uid} is already a member of Team={found.TeamId}; use /team/member_update to change it.", "member");
                return;
            }
        }

        var (users, memberships) = await AddMembersAsync(context, found, members, maxInTeam);
        var team = directory.TryTeam(found.TeamId, out var t) ? t : null;
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            TenantJson.WriteTeamMembers(json, team is null ? found : directory.RowOf<TeamRow>(team), team);
            json.WriteStartArray("updated_users");
            foreach (var user in users)
            {
                TenantJson.WriteUser(json, user, directory.TryUser(user.UserId, out var u) ? u : null);
            }

            json.WriteEndArray();
            json.WriteStartArray("updated_team_memberships");
            foreach (var membership in memberships)
            {
                TenantJson.WriteMembership(json, membership, directory.TryMember(membership.TeamId, membership.UserId, out var m) ? m : null,
                    membership.BudgetId is { } b && directory.TryBudget(b, out var budget) ? budget : null);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    public Task MemberUpdateAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } found)
        {
            return;
        }

        var userId = ResolveUser(body.String("user_id", 256), body.String("user_email", 256));
        var role = body.String("role", 32);
        var maxInTeam = body.Money("max_budget_in_team");
        var tpm = body.Whole("tpm_limit");
        var rpm = body.Whole("rpm_limit");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (role is not null and not ("admin" or "user"))
        {
            await api.BadRequestAsync(context, "role must be \"admin\" or \"user\".", "role");
            return;
        }

        if (userId is null || !directory.TryMember(found.TeamId, userId, out var member))
        {
            await api.NotFoundAsync(context, $"User is not a member of Team={found.TeamId}; add it with /team/member_add.");
            return;
        }

        var membership = directory.RowOf<MembershipRow>(member);
        var budget = membership.BudgetId is { } b && directory.TryBudget(b, out var existing) ? existing.Clone()
            : new BudgetRow { BudgetId = TenantApiSupport.NewId(), CreatedAt = api.NowMs, CreatedBy = "default_user_id" };
        budget.MaxBudget = body.Has("max_budget_in_team") ? maxInTeam : budget.MaxBudget;
        budget.TpmLimit = body.Has("tpm_limit") ? tpm : budget.TpmLimit;
        budget.RpmLimit = body.Has("rpm_limit") ? rpm : budget.RpmLimit;
        budget.UpdatedAt = api.NowMs;
        await store.UpsertBudgetAsync(budget, context.RequestAborted);
        directory.Put(budget);
        var updated = new MembershipRow { UserId = userId, TeamId = found.TeamId, Spend = membership.Spend, BudgetId = budget.BudgetId, BudgetResetAt = membership.BudgetResetAt };
        await store.UpsertMemberAsync(updated, context.RequestAborted);
        directory.Put(updated);
        if (role is not null)
        {
            var row = found.Clone();
            row.MembersWithRoles = WithMember(row.MembersWithRoles, userId, UserEmail(userId), role);
            row.UpdatedAt = api.NowMs;
            await store.UpsertTeamAsync(row, context.RequestAborted);
            directory.Put(row);
        }

        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("team_id", found.TeamId);
            json.WriteString("user_id", userId);
            AdminJson.WriteNullable(json, "user_email", UserEmail(userId));
            AdminJson.WriteNullable(json, "max_budget_in_team", budget.MaxBudget);
            AdminJson.WriteNullable(json, "tpm_limit", budget.TpmLimit);
            AdminJson.WriteNullable(json, "rpm_limit", budget.RpmLimit);
            json.WriteEndObject();
        });
    });

    public Task MemberDeleteAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } found)
        {
            return;
        }

        var userId = ResolveUser(body.String("user_id", 256), body.String("user_email", 256));
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (userId is null || (!directory.TryMember(found.TeamId, userId, out _) && !found.MembersWithRoles.Contains($"\"{userId}\"", StringComparison.Ordinal)))
        {
            await api.NotFoundAsync(context, $"User is not a member of Team={found.TeamId}.");
            return;
        }

        await store.DeleteMemberAsync(found.TeamId, userId, context.RequestAborted);
        directory.RemoveMember(found.TeamId, userId);
        var row = found.Clone();
        row.MembersWithRoles = WithoutMember(row.MembersWithRoles, userId);
        row.UpdatedAt = api.NowMs;
        await store.UpsertTeamAsync(row, context.RequestAborted);
        var team = directory.Put(row);
        if (directory.TryUser(userId, out var user))
        {
            var userRow = directory.RowOf<UserRow>(user).Clone();
            userRow.Teams = TenantJson.Array(KeyJson.ReadStringArray(userRow.Teams).Where(t => t != found.TeamId));
            userRow.UpdatedAt = api.NowMs;
            await store.UpsertUserAsync(userRow, context.RequestAborted);
            directory.Put(userRow);
        }

        await TenantApiSupport.JsonAsync(context, json => TenantJson.WriteTeam(json, row, team));
    });

    private Task SetBlockedAsync(HttpContext context, bool blocked) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } found)
        {
            return;
        }

        var row = found.Clone();
        row.Blocked = blocked ? 1 : 0;
        row.UpdatedAt = api.NowMs;
        await store.UpsertTeamAsync(row, context.RequestAborted);
        var team = directory.Put(row);
        await TenantApiSupport.JsonAsync(context, json => TenantJson.WriteTeam(json, row, team));
    });

    private async Task<TeamRow?> FindAsync(HttpContext context, TenantBody body)
    {
        var id = body.Id("team_id");
        if (await api.RejectedAsync(context, body))
        {
            return null;
        }

        if (!directory.TryTeam(id!, out var team))
        {
            await api.NotFoundAsync(context, $"Team not found, passed team_id={id}. /team/list shows the teams there are.");
            return null;
        }

        return directory.RowOf<TeamRow>(team);
    }

    private async Task<bool> ValidAsync(HttpContext context, TeamRow row)
    {
        if (row.OrganizationId is { } org && !directory.TryOrganization(org, out _))
        {
            await api.BadRequestAsync(context, $"Organization not found, passed organization_id={org}. Create it with /organization/new.", "organization_id");
            return false;
        }

        return true;
    }

    private static void Apply(TenantBody body, TeamRow row)
    {
        if (body.Has("team_alias"))
        {
            row.TeamAlias = body.String("team_alias");
        }

        if (body.Has("organization_id"))
        {
            row.OrganizationId = body.String("organization_id", 256);
        }

        if (body.Has("metadata"))
        {
            row.Metadata = body.Object("metadata") ?? "{}";
        }

        if (body.Has("max_budget"))
        {
            row.MaxBudget = body.Money("max_budget");
        }

        if (body.Has("soft_budget"))
        {
            row.SoftBudget = body.Money("soft_budget");
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

        if (body.Has("models"))
        {
            row.Models = TenantJson.Array(body.Strings("models") ?? []);
        }

        if (body.Has("blocked"))
        {
            row.Blocked = body.Flag("blocked") == true ? 1 : 0;
        }

        if (body.Has("model_max_budget"))
        {
            row.ModelMaxBudget = body.ModelMaxBudget() ?? "{}";
        }

        if (body.Has("budget_duration"))
        {
            var duration = body.Duration("budget_duration");
            if (duration != row.BudgetDuration)
            {
                row.BudgetDuration = duration;
                row.BudgetResetAt = duration is not null && BudgetDuration.TryParse(duration, out var window)
                    ? TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() + (long)window.TotalMilliseconds
                    : null;
            }
        }
    }

    private sealed record Member(string? UserId, string? UserEmail, string Role);

    private static List<Member> ReadMembers(TenantBody body, string name)
    {
        var members = new List<Member>();
        if (!body.TryGet(name, out var value))
        {
            return members;
        }

        var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                body.Fail(name, $"{name} must be {{\"role\": \"admin\"|\"user\", \"user_id\": \"...\", \"user_email\": \"...\"}} or a list of them");
                return [];
            }

            string? Text(string field) => item.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var role = Text("role") ?? "user";
            if (role is not ("admin" or "user"))
            {
                body.Fail(name, "role must be \"admin\" or \"user\"");
                return [];
            }

            members.Add(new Member(Text("user_id"), Text("user_email"), role));
        }

        return members;
    }

    private async Task<(List<UserRow> Users, List<MembershipRow> Memberships)> AddMembersAsync(HttpContext context, TeamRow team, List<Member> members, double? maxInTeam)
    {
        var users = new List<UserRow>();
        var memberships = new List<MembershipRow>();
        var row = directory.TryTeam(team.TeamId, out var current) ? directory.RowOf<TeamRow>(current).Clone() : team.Clone();
        foreach (var member in members)
        {
            // A member named by email only becomes (or is matched to) an internal user, as LiteLLM does.
            var userId = ResolveUser(member.UserId, member.UserEmail) ?? member.UserId ?? TenantApiSupport.NewId();
            var user = directory.TryUser(userId, out var existing) ? directory.RowOf<UserRow>(existing).Clone()
                : new UserRow { UserId = userId, UserEmail = member.UserEmail, UserRole = "internal_user", CreatedAt = api.NowMs };
            var teams = KeyJson.ReadStringArray(user.Teams).ToList();
            if (!teams.Contains(team.TeamId))
            {
                teams.Add(team.TeamId);
            }

            user.Teams = TenantJson.Array(teams);
            user.UpdatedAt = api.NowMs;
            await store.UpsertUserAsync(user, context.RequestAborted);
            directory.Put(user);
            users.Add(user);

            string? budgetId = null;
            if (maxInTeam is not null)
            {
                var budget = new BudgetRow { BudgetId = TenantApiSupport.NewId(), MaxBudget = maxInTeam, CreatedAt = api.NowMs, UpdatedAt = api.NowMs, CreatedBy = "default_user_id" };
                await store.UpsertBudgetAsync(budget, context.RequestAborted);
                directory.Put(budget);
                budgetId = budget.BudgetId;
            }

            var membership = new MembershipRow { UserId = userId, TeamId = team.TeamId, BudgetId = budgetId };
            await store.UpsertMemberAsync(membership, context.RequestAborted);
            directory.Put(membership);
            memberships.Add(membership);
            row.MembersWithRoles = WithMember(row.MembersWithRoles, userId, user.UserEmail, member.Role);
        }

        row.UpdatedAt = api.NowMs;
        await store.UpsertTeamAsync(row, context.RequestAborted);
        directory.Put(row);
        return (users, memberships);
    }

    private string? ResolveUser(string? userId, string? email)
    {
        if (userId is not null || email is null)
        {
            return userId;
        }

        foreach (var user in directory.Users)
        {
            if (string.Equals(directory.RowOf<UserRow>(user).UserEmail, email, StringComparison.OrdinalIgnoreCase))
            {
                return user.Id;
            }
        }

        return null;
    }

    private string? UserEmail(string userId) => directory.TryUser(userId, out var user) ? directory.RowOf<UserRow>(user).UserEmail : null;

    private IEnumerable<TenantEntry> Sorted() => directory.Teams.OrderBy(t => directory.RowOf<TeamRow>(t).CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal);

    private static string WithMember(string membersWithRoles, string userId, string? email, string role)
    {
        var array = WithoutMemberNode(membersWithRoles, userId);
        // Typed as JsonNode so that Add(JsonNode) is chosen: the generic Add<T> serialises T by reflection (not AOT-safe).
        JsonNode member = new JsonObject { ["role"] = role, ["user_id"] = userId, ["user_email"] = email };
        array.Add(member);
        return array.ToJsonString();
    }

    private static string WithoutMember(string membersWithRoles, string userId) => WithoutMemberNode(membersWithRoles, userId).ToJsonString();

    private static JsonArray WithoutMemberNode(string membersWithRoles, string userId)
    {
        var array = JsonNode.Parse(string.IsNullOrWhiteSpace(membersWithRoles) ? "[]" : membersWithRoles) as JsonArray ?? [];
        for (var i = array.Count - 1; i >= 0; i--)
        {
            if (array[i] is JsonObject member && member["user_id"]?.GetValue<string>() == userId)
            {
                array.RemoveAt(i);
            }
        }

        return array;
    }
}
