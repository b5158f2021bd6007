namespace Proxy.Admin.Storage;

/// <summary>
/// The store's SQL. It runs unchanged on PostgreSQL and SQLite (both take ON CONFLICT, LIMIT/OFFSET and these type
/// names), so the two stores cannot drift apart. Parameters are always bound, never concatenated.
/// </summary>
internal static class Sql
{
    /// <summary>The schema as the first versioned build created it (migration 1); later versions change it in <see cref="Migrations"/>.</summary>
    public static readonly string[] Schema =
    [
        """
        CREATE TABLE IF NOT EXISTS "LiteLLM_VerificationToken" (
            token TEXT PRIMARY KEY,
            key_name TEXT,
            key_alias TEXT,
            spend DOUBLE PRECISION NOT NULL DEFAULT 0,
            max_budget DOUBLE PRECISION,
            budget_duration TEXT,
            budget_reset_at BIGINT,
            expires BIGINT,
            models TEXT NOT NULL DEFAULT '[]',
            tpm_limit BIGINT,
            rpm_limit BIGINT,
            max_parallel_requests BIGINT,
            metadata TEXT NOT NULL DEFAULT '{}',
            user_id TEXT,
            team_id TEXT,
            blocked BIGINT NOT NULL DEFAULT 0,
            created_by TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """,
        """CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_key_alias" ON "LiteLLM_VerificationToken" (key_alias)""",
        """
        CREATE TABLE IF NOT EXISTS "LiteLLM_SpendLogs" (
            request_id TEXT PRIMARY KEY,
            call_type TEXT NOT NULL,
            api_key TEXT NOT NULL,
            key_alias TEXT,
            spend DOUBLE PRECISION NOT NULL DEFAULT 0,
            total_tokens BIGINT NOT NULL DEFAULT 0,
            prompt_tokens BIGINT NOT NULL DEFAULT 0,
            completion_tokens BIGINT NOT NULL DEFAULT 0,
            "startTime" BIGINT NOT NULL,
            "endTime" BIGINT NOT NULL,
            model TEXT,
            model_id TEXT,
            model_group TEXT,
            api_base TEXT,
            cache_hit BIGINT NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0)
        """,
        """CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_api_key" ON "LiteLLM_SpendLogs" (api_key)""",
        """CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_startTime" ON "LiteLLM_SpendLogs" ("startTime")""",
        """
        CREATE TABLE IF NOT EXISTS "LiteLLM_ProxyModelTable" (
            model_id TEXT PRIMARY KEY,
            model_name TEXT NOT NULL,
            litellm_params TEXT NOT NULL,
            model_info TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """,
    ];

    private const string KeyColumns = """
        token AS Token, key_name AS KeyName, key_alias AS KeyAlias, spend AS Spend, max_budget AS MaxBudget,
        budget_duration AS BudgetDuration, budget_reset_at AS BudgetResetAt, expires AS Expires, models AS Models,
        tpm_limit AS TpmLimit, rpm_limit AS RpmLimit, max_parallel_requests AS MaxParallelRequests, metadata AS Metadata,
        user_id AS UserId, team_id AS TeamId, blocked AS Blocked, created_by AS CreatedBy, created_at AS CreatedAt,
        updated_at AS UpdatedAt, organization_id AS OrganizationId, budget_id AS BudgetId, model_max_budget AS ModelMaxBudget,
        soft_budget AS SoftBudget
        """;

    public const string FindKey = "SELECT " + KeyColumns + """ FROM "LiteLLM_VerificationToken" WHERE token = @token""";

    public const string FindKeysByAlias = "SELECT " + KeyColumns + """ FROM "LiteLLM_VerificationToken" WHERE key_alias = @alias""";

    public const string InsertKey = """
        INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, spend, max_budget, budget_duration,
            budget_reset_at, expires, models, tpm_limit, rpm_limit, max_parallel_requests, metadata, user_id, team_id,
            blocked, created_by, created_at, updated_at, organization_id, budget_id, model_max_budget, soft_budget)
        VALUES (@Token, @KeyName, @KeyAlias, @Spend, @MaxBudget, @BudgetDuration, @BudgetResetAt, @Expires, @Models,
            @TpmLimit, @RpmLimit, @MaxParallelRequests, @Metadata, @UserId, @TeamId, @Blocked, @CreatedBy, @CreatedAt,
            @UpdatedAt, @OrganizationId, @BudgetId, @ModelMaxBudget, @SoftBudget)
        """;

    public const string UpdateKey = """
        UPDATE "LiteLLM_VerificationToken" SET key_alias = @KeyAlias, max_budget = @MaxBudget,
            budget_duration = @BudgetDuration, budget_reset_at = @BudgetResetAt, expires = @Expires, models = @Models,
            tpm_limit = @TpmLimit, rpm_limit = @RpmLimit, max_parallel_requests = @MaxParallelRequests,
            metadata = @Metadata, user_id = @UserId, team_id = @TeamId, blocked = @Blocked, updated_at = @UpdatedAt,
            organization_id = @OrganizationId, budget_id = @BudgetId, model_max_budget = @ModelMaxBudget, soft_budget = @SoftBudget
        WHERE token = @Token
        """;

    public const string ReplaceToken = """
        UPDATE "LiteLLM_VerificationToken" SET token = @newToken, key_name = @keyName, updated_at = @updatedAt
        WHERE token = @oldToken
        """;

    public const string DeleteKeys = """DELETE FROM "LiteLLM_VerificationToken" WHERE token = @token""";

    public const string CountKeys = """
        SELECT COUNT(*) FROM "LiteLLM_VerificationToken"
        WHERE (@alias IS NULL OR key_alias = @alias) AND (@userId IS NULL OR user_id = @userId) AND (@teamId IS NULL OR team_id = @teamId)
        """;

    public const string ListKeys = "SELECT " + KeyColumns + """
         FROM "LiteLLM_VerificationToken"
        WHERE (@alias IS NULL OR key_alias = @alias) AND (@userId IS NULL OR user_id = @userId) AND (@teamId IS NULL OR team_id = @teamId)
        ORDER BY created_at, token LIMIT @size OFFSET @offset
        """;

    /// <summary>The spend-log columns in insert order; both stores bind their values in this order.</summary>
    public const string SpendLogInsertColumns = """
        request_id, call_type, api_key, key_alias, spend, total_tokens, prompt_tokens, completion_tokens, "startTime",
        "endTime", model, model_id, model_group, api_base, cache_hit, status, latency_ms, call_id, "user", team_id, end_user,
        organization_id
        """;

    /// <summary>One row, SQLite's numbered parameters ?1..?22 in <see cref="SpendLogInsertColumns"/> order.</summary>
    public const string InsertSpendLogRow = "INSERT INTO \"LiteLLM_SpendLogs\" (" + SpendLogInsertColumns + """
        ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
        ON CONFLICT (request_id) DO NOTHING
        """;

    // A reset (budget_duration elapsed) zeroes the spend before this batch's delta is added, unless the stored key is
    // already in that window (another replica reset it first and may have added spend since). Answers the key's total.
    public const string AddKeySpend = """
        UPDATE "LiteLLM_VerificationToken"
        SET spend = (CASE WHEN @Reset AND (budget_reset_at IS NULL OR budget_reset_at < @BudgetResetAt) THEN 0 ELSE spend END) + @Delta,
            budget_reset_at = CASE WHEN budget_reset_at IS NULL OR budget_reset_at < @BudgetResetAt THEN @BudgetResetAt ELSE budget_reset_at END
        WHERE token = @Token
        RETURNING token AS Token, spend AS Spend, budget_reset_at AS BudgetResetAt
        """;

    private const string SpendColumns = """
        request_id AS RequestId, call_type AS CallType, api_key AS ApiKey, key_alias AS KeyAlias, spend AS Spend,
        total_tokens AS TotalTokens, prompt_tokens AS PromptTokens, completion_tokens AS CompletionTokens,
        "startTime" AS StartTime, "endTime" AS EndTime, model AS Model, model_id AS ModelId, model_group AS ModelGroup,
        api_base AS ApiBase, cache_hit AS CacheHit, status AS Status, latency_ms AS LatencyMs, call_id AS CallId,
        "user" AS UserId, team_id AS TeamId, end_user AS EndUser, organization_id AS OrganizationId
        """;

    public const string QuerySpendLogs = "SELECT " + SpendColumns + """
         FROM "LiteLLM_SpendLogs"
        WHERE (@apiKey IS NULL OR api_key = @apiKey) AND (@requestId IS NULL OR request_id = @requestId OR call_id = @requestId)
          AND (@userId IS NULL OR "user" = @userId) AND (@teamId IS NULL OR team_id = @teamId)
          AND (@startMs IS NULL OR "startTime" >= @startMs) AND (@endMs IS NULL OR "startTime" < @endMs)
        ORDER BY "startTime", request_id LIMIT @limit
        """;

    /// <summary>One batch of retention: the oldest rows first, by the startTime index; rowid is SQLite's, ctid PostgreSQL's.</summary>
    public const string DeleteOldSpendLogs = """
        DELETE FROM "LiteLLM_SpendLogs" WHERE rowid IN
          (SELECT rowid FROM "LiteLLM_SpendLogs" WHERE "startTime" < @cutoffMs ORDER BY "startTime" LIMIT @batch)
        """;

    public const string DeleteOldSpendLogsPostgres = """
        DELETE FROM "LiteLLM_SpendLogs" WHERE ctid IN
          (SELECT ctid FROM "LiteLLM_SpendLogs" WHERE "startTime" < @cutoffMs ORDER BY "startTime" LIMIT @batch)
        """;

    public const string TotalSpend = """SELECT COALESCE(SUM(spend), 0) FROM "LiteLLM_SpendLogs" """;

    public const string ListModels = """
        SELECT model_id AS ModelId, model_name AS ModelName, litellm_params AS LitellmParams, model_info AS ModelInfo,
            created_at AS CreatedAt, updated_at AS UpdatedAt
        FROM "LiteLLM_ProxyModelTable" ORDER BY created_at, model_id
        """;

    public const string UpsertModel = """
        INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_at, updated_at)
        VALUES (@ModelId, @ModelName, @LitellmParams, @ModelInfo, @CreatedAt, @UpdatedAt)
        ON CONFLICT (model_id) DO UPDATE SET model_name = excluded.model_name, litellm_params = excluded.litellm_params,
            model_info = excluded.model_info, updated_at = excluded.updated_at
        """;

    public const string DeleteModel = """DELETE FROM "LiteLLM_ProxyModelTable" WHERE model_id = @modelId""";
}
