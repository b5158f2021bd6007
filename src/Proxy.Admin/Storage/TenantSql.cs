namespace Proxy.Admin.Storage;

/// <summary>The tenant tables' SQL; like <see cref="Sql"/> it runs unchanged on PostgreSQL and SQLite.</summary>
internal static class TenantSql
{
    public const string LoadBudgets = """
        SELECT budget_id AS BudgetId, max_budget AS MaxBudget, soft_budget AS SoftBudget, max_parallel_requests AS MaxParallelRequests,
            tpm_limit AS TpmLimit, rpm_limit AS RpmLimit, model_max_budget AS ModelMaxBudget, budget_duration AS BudgetDuration,
            budget_reset_at AS BudgetResetAt, created_at AS CreatedAt, created_by AS CreatedBy, updated_at AS UpdatedAt, updated_by AS UpdatedBy
        FROM "LiteLLM_BudgetTable"
        """;

    public const string LoadTeams = """
        SELECT team_id AS TeamId, team_alias AS TeamAlias, organization_id AS OrganizationId, admins AS Admins, members AS Members,
            members_with_roles AS MembersWithRoles, metadata AS Metadata, max_budget AS MaxBudget, soft_budget AS SoftBudget, spend AS Spend,
            models AS Models, max_parallel_requests AS MaxParallelRequests, tpm_limit AS TpmLimit, rpm_limit AS RpmLimit,
            budget_duration AS BudgetDuration, budget_reset_at AS BudgetResetAt, blocked AS Blocked, model_max_budget AS ModelMaxBudget,
            created_at AS CreatedAt, updated_at AS UpdatedAt
        FROM "LiteLLM_TeamTable"
        """;

    public const string LoadMemberships = """
        SELECT user_id AS UserId, team_id AS TeamId, spend AS Spend, budget_id AS BudgetId, budget_reset_at AS BudgetResetAt
        FROM "LiteLLM_TeamMembership"
        """;

    public const string LoadUsers = """
        SELECT user_id AS UserId, user_alias AS UserAlias, user_email AS UserEmail, user_role AS UserRole, teams AS Teams,
            organization_id AS OrganizationId, max_budget AS MaxBudget, spend AS Spend, models AS Models,
            max_parallel_requests AS MaxParallelRequests, tpm_limit AS TpmLimit, rpm_limit AS RpmLimit, budget_duration AS BudgetDuration,
            budget_reset_at AS BudgetResetAt, metadata AS Metadata, model_max_budget AS ModelMaxBudget, created_at AS CreatedAt,
            updated_at AS UpdatedAt
        FROM "LiteLLM_UserTable"
        """;

    public const string LoadCustomers = """
        SELECT user_id AS UserId, alias AS Alias, spend AS Spend, allowed_model_region AS AllowedModelRegion, default_model AS DefaultModel,
            budget_id AS BudgetId, blocked AS Blocked, budget_reset_at AS BudgetResetAt
        FROM "LiteLLM_EndUserTable"
        """;

    public const string LoadOrganizations = """
        SELECT organization_id AS OrganizationId, organization_alias AS OrganizationAlias, budget_id AS BudgetId, models AS Models,
            spend AS Spend, metadata AS Metadata, budget_reset_at AS BudgetResetAt, created_at AS CreatedAt, created_by AS CreatedBy,
            updated_at AS UpdatedAt, updated_by AS UpdatedBy
        FROM "LiteLLM_OrganizationTable"
        """;

    public const string LoadOrganizationMembers = """
        SELECT user_id AS UserId, organization_id AS OrganizationId, user_role AS UserRole, spend AS Spend, budget_id AS BudgetId,
            created_at AS CreatedAt, updated_at AS UpdatedAt
        FROM "LiteLLM_OrganizationMembership"
        """;

    // Upserts leave spend alone on conflict: spend only moves through spend batches.
    public const string UpsertBudget = """
        INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget,
            budget_duration, budget_reset_at, created_at, created_by, updated_at, updated_by)
        VALUES (@BudgetId, @MaxBudget, @SoftBudget, @MaxParallelRequests, @TpmLimit, @RpmLimit, @ModelMaxBudget, @BudgetDuration, @BudgetResetAt,
            @CreatedAt, @CreatedBy, @UpdatedAt, @UpdatedBy)
        ON CONFLICT (budget_id) DO UPDATE SET max_budget = excluded.max_budget, soft_budget = excluded.soft_budget,
            max_parallel_requests = excluded.max_parallel_requests, tpm_limit = excluded.tpm_limit, rpm_limit = excluded.rpm_limit,
            model_max_budget = excluded.model_max_budget, budget_duration = excluded.budget_duration, budget_reset_at = excluded.budget_reset_at,
            updated_at = excluded.updated_at, updated_by = excluded.updated_by
        """;

    public const string UpsertTeam = """
        INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, organization_id, admins, members, members_with_roles, metadata, max_budget,
            soft_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit, budget_duration, budget_reset_at, blocked,
            model_max_budget, created_at, updated_at)
        VALUES (@TeamId, @TeamAlias, @OrganizationId, @Admins, @Members, @MembersWithRoles, @Metadata, @MaxBudget, @SoftBudget, @Spend,
            @Models, @MaxParallelRequests, @TpmLimit, @RpmLimit, @BudgetDuration, @BudgetResetAt, @Blocked, @ModelMaxBudget, @CreatedAt, @UpdatedAt)
        ON CONFLICT (team_id) DO UPDATE SET team_alias = excluded.team_alias, organization_id = excluded.organization_id,
            admins = excluded.admins, members = excluded.members, members_with_roles = excluded.members_with_roles, metadata = excluded.metadata,
            max_budget = excluded.max_budget, soft_budget = excluded.soft_budget, models = excluded.models,
            max_parallel_requests = excluded.max_parallel_requests, tpm_limit = excluded.tpm_limit, rpm_limit = excluded.rpm_limit,
            budget_duration = excluded.budget_duration, budget_reset_at = excluded.budget_reset_at, blocked = excluded.blocked,
            model_max_budget = excluded.model_max_budget, updated_at = excluded.updated_at
        """;

    public const string UpsertMember = """
        INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend, budget_id, budget_reset_at)
        VALUES (@UserId, @TeamId, @Spend, @BudgetId, @BudgetResetAt)
        ON CONFLICT (user_id, team_id) DO UPDATE SET budget_id = excluded.budget_id
        """;

    public const string UpsertUser = """
        INSERT INTO "LiteLLM_UserTable" (user_id, user_alias, user_email, user_role, teams, organization_id, max_budget, spend, models,
            max_parallel_requests, tpm_limit, rpm_limit, budget_duration, budget_reset_at, metadata, model_max_budget, created_at, updated_at)
        VALUES (@UserId, @UserAlias, @UserEmail, @UserRole, @Teams, @OrganizationId, @MaxBudget, @Spend, @Models, @MaxParallelRequests,
            @TpmLimit, @RpmLimit, @BudgetDuration, @BudgetResetAt, @Metadata, @ModelMaxBudget, @CreatedAt, @UpdatedAt)
        ON CONFLICT (user_id) DO UPDATE SET user_alias = excluded.user_alias, user_email = excluded.user_email, user_role = excluded.user_role,
            teams = excluded.teams, organization_id = excluded.organization_id, max_budget = excluded.max_budget, models = excluded.models,
            max_parallel_requests = excluded.max_parallel_requests, tpm_limit = excluded.tpm_limit, rpm_limit = excluded.rpm_limit,
            budget_duration = excluded.budget_duration, budget_reset_at = excluded.budget_reset_at, metadata = excluded.metadata,
            model_max_budget = excluded.model_max_budget, updated_at = excluded.updated_at
        """;

    public const string UpsertCustomer = """
        INSERT INTO "LiteLLM_EndUserTable" (user_id, alias, spend, allowed_model_region, default_model, budget_id, blocked, budget_reset_at)
        VALUES (@UserId, @Alias, @Spend, @AllowedModelRegion, @DefaultModel, @BudgetId, @Blocked, @BudgetResetAt)
        ON CONFLICT (user_id) DO UPDATE SET alias = excluded.alias, allowed_model_region = excluded.allowed_model_region,
            default_model = excluded.default_model, budget_id = excluded.budget_id, blocked = excluded.blocked
        """;

    public const string UpsertOrganization = """
        INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, models, spend, metadata, budget_reset_at,
            created_at, created_by, updated_at, updated_by)
        VALUES (@OrganizationId, @OrganizationAlias, @BudgetId, @Models, @Spend, @Metadata, @BudgetResetAt, @CreatedAt, @CreatedBy, @UpdatedAt,
            @UpdatedBy)
        ON CONFLICT (organization_id) DO UPDATE SET organization_alias = excluded.organization_alias, budget_id = excluded.budget_id,
            models = excluded.models, metadata = excluded.metadata, updated_at = excluded.updated_at, updated_by = excluded.updated_by
        """;

    public const string UpsertOrganizationMember = """
        INSERT INTO "LiteLLM_OrganizationMembership" (user_id, organization_id, user_role, spend, budget_id, created_at, updated_at)
        VALUES (@UserId, @OrganizationId, @UserRole, @Spend, @BudgetId, @CreatedAt, @UpdatedAt)
        ON CONFLICT (user_id, organization_id) DO UPDATE SET user_role = excluded.user_role, budget_id = excluded.budget_id,
            updated_at = excluded.updated_at
        """;

    public const string DeleteTeam = """DELETE FROM "LiteLLM_TeamTable" WHERE team_id = @id""";

    public const string DeleteMembersOfTeam = """DELETE FROM "LiteLLM_TeamMembership" WHERE team_id = @id""";

    public const string DeleteMember = """DELETE FROM "LiteLLM_TeamMembership" WHERE team_id = @teamId AND user_id = @userId""";

    public const string DeleteUser = """DELETE FROM "LiteLLM_UserTable" WHERE user_id = @id""";

    public const string DeleteMembershipsOfUser = """DELETE FROM "LiteLLM_TeamMembership" WHERE user_id = @id""";

    public const string DeleteCustomer = """DELETE FROM "LiteLLM_EndUserTable" WHERE user_id = @id""";

    public const string DeleteBudget = """DELETE FROM "LiteLLM_BudgetTable" WHERE budget_id = @id""";

    public const string DeleteOrganization = """DELETE FROM "LiteLLM_OrganizationTable" WHERE organization_id = @id""";

    public const string DeleteOrganizationMember = """
        DELETE FROM "LiteLLM_OrganizationMembership" WHERE organization_id = @organizationId AND user_id = @userId
        """;

    public const string TeamKeyTokens = """SELECT token FROM "LiteLLM_VerificationToken" WHERE team_id = @id""";

    public const string DeleteTeamKeys = """DELETE FROM "LiteLLM_VerificationToken" WHERE team_id = @id""";

    // Spend: as for keys, a reset zeroes the stored spend first unless the row is already in that window.
    private const string SpendSet = """
        SET spend = (CASE WHEN @Reset AND (budget_reset_at IS NULL OR budget_reset_at < @BudgetResetAt) THEN 0 ELSE spend END) + @Delta,
            budget_reset_at = CASE WHEN budget_reset_at IS NULL OR budget_reset_at < @BudgetResetAt THEN @BudgetResetAt ELSE budget_reset_at END
        """;

    public const string AddTeamSpend = """UPDATE "LiteLLM_TeamTable" """ + SpendSet + """
         WHERE team_id = @Id RETURNING team_id AS Id, spend AS Spend, budget_reset_at AS BudgetResetAt
        """;

    public const string AddMemberSpend = """UPDATE "LiteLLM_TeamMembership" """ + SpendSet + """
         WHERE team_id = @TeamId AND user_id = @Id RETURNING user_id AS Id, spend AS Spend, budget_reset_at AS BudgetResetAt
        """;

    public const string AddUserSpend = """UPDATE "LiteLLM_UserTable" """ + SpendSet + """
         WHERE user_id = @Id RETURNING user_id AS Id, spend AS Spend, budget_reset_at AS BudgetResetAt
        """;

    // LiteLLM upserts a customer on its first spend.
    public const string EnsureCustomer = """
        INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, blocked) VALUES (@Id, 0, 0) ON CONFLICT (user_id) DO NOTHING
        """;

    public const string AddCustomerSpend = """UPDATE "LiteLLM_EndUserTable" """ + SpendSet + """
         WHERE user_id = @Id RETURNING user_id AS Id, spend AS Spend, budget_reset_at AS BudgetResetAt
        """;

    public const string AddOrganizationSpend = """UPDATE "LiteLLM_OrganizationTable" """ + SpendSet + """
         WHERE organization_id = @Id RETURNING organization_id AS Id, spend AS Spend, budget_reset_at AS BudgetResetAt
        """;

    // The proxy budget's holder (user litellm-proxy-budget, as in LiteLLM) is made at start when max_budget is set.
    public const string EnsureProxyBudgetUser = """
        INSERT INTO "LiteLLM_UserTable" (user_id, user_role, max_budget, budget_duration, created_at, updated_at)
        VALUES (@id, 'proxy_admin', @maxBudget, @budgetDuration, @now, @now)
        ON CONFLICT (user_id) DO UPDATE SET max_budget = excluded.max_budget, budget_duration = excluded.budget_duration
        """;
}
