namespace Proxy.Admin.Storage;

/// <summary>
/// The schema's versions, applied in order at start-up, each in one transaction with its row in
/// <c>gateway_schema_migrations</c> (PostgreSQL under an advisory lock, so replicas starting together migrate once).
/// Version 1 is the schema the gateway created before versions existed: its statements are all "IF NOT EXISTS", so a
/// database written by an older build is taken as at version 1 and upgraded in place. Never edit a released version;
/// add the next one. Every statement runs unchanged on PostgreSQL and SQLite.
/// </summary>
internal static class Migrations
{
    public sealed record Migration(int Version, string Description, string[] Statements);

    public const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS "gateway_schema_migrations" (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at BIGINT NOT NULL)
        """;

    public const string CurrentVersion = """SELECT COALESCE(MAX(version), 0) FROM "gateway_schema_migrations" """;

    public const string RecordVersion = """
        INSERT INTO "gateway_schema_migrations" (version, description, applied_at) VALUES (@version, @description, @appliedAt)
        """;

    public static readonly Migration[] All =
    [
        new(1, "keys, spend logs, stored models", Sql.Schema),
        new(2, "teams, team members, internal users, customers, budgets, organisations; spend-log ids and tenant columns",
        [
            """ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN organization_id TEXT""",
            """ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN budget_id TEXT""",
            """ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN model_max_budget TEXT NOT NULL DEFAULT '{}'""",
            """ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN soft_budget DOUBLE PRECISION""",
            """CREATE INDEX "LiteLLM_VerificationToken_team_id" ON "LiteLLM_VerificationToken" (team_id)""",
            """CREATE INDEX "LiteLLM_VerificationToken_user_id" ON "LiteLLM_VerificationToken" (user_id)""",
            // request_id stays the primary key but is now always the gateway's own id; the client's call id moves to its
            // own column, so a reused x-litellm-call-id can no longer make a row collide with (and hide behind) another.
            """ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN call_id TEXT""",
            """UPDATE "LiteLLM_SpendLogs" SET call_id = request_id""",
            """ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN "user" TEXT""",
            """ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN team_id TEXT""",
            """ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN end_user TEXT""",
            """ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN organization_id TEXT""",
            """CREATE INDEX "LiteLLM_SpendLogs_call_id" ON "LiteLLM_SpendLogs" (call_id)""",
            """CREATE INDEX "LiteLLM_SpendLogs_team_id" ON "LiteLLM_SpendLogs" (team_id)""",
            """CREATE INDEX "LiteLLM_SpendLogs_end_user" ON "LiteLLM_SpendLogs" (end_user)""",
            """
            CREATE TABLE "LiteLLM_BudgetTable" (
                budget_id TEXT PRIMARY KEY,
                max_budget DOUBLE PRECISION,
                soft_budget DOUBLE PRECISION,
                max_parallel_requests BIGINT,
                tpm_limit BIGINT,
                rpm_limit BIGINT,
                model_max_budget TEXT NOT NULL DEFAULT '{}',
                budget_duration TEXT,
                budget_reset_at BIGINT,
                created_at BIGINT NOT NULL,
                created_by TEXT,
                updated_at BIGINT NOT NULL,
                updated_by TEXT)
            """,
            """
            CREATE TABLE "LiteLLM_OrganizationTable" (
                organization_id TEXT PRIMARY KEY,
                organization_alias TEXT,
                budget_id TEXT,
                models TEXT NOT NULL DEFAULT '[]',
                spend DOUBLE PRECISION NOT NULL DEFAULT 0,
                model_spend TEXT NOT NULL DEFAULT '{}',
                metadata TEXT NOT NULL DEFAULT '{}',
                budget_reset_at BIGINT,
                created_at BIGINT NOT NULL,
                created_by TEXT,
                updated_at BIGINT NOT NULL,
                updated_by TEXT)
            """,
            """
            CREATE TABLE "LiteLLM_TeamTable" (
                team_id TEXT PRIMARY KEY,
                team_alias TEXT,
                organization_id TEXT,
                admins TEXT NOT NULL DEFAULT '[]',
                members TEXT NOT NULL DEFAULT '[]',
                members_with_roles TEXT NOT NULL DEFAULT '[]',
                metadata TEXT NOT NULL DEFAULT '{}',
                max_budget DOUBLE PRECISION,
                soft_budget DOUBLE PRECISION,
                spend DOUBLE PRECISION NOT NULL DEFAULT 0,
                models TEXT NOT NULL DEFAULT '[]',
                max_parallel_requests BIGINT,
                tpm_limit BIGINT,
                rpm_limit BIGINT,
                budget_duration TEXT,
                budget_reset_at BIGINT,
                blocked BIGINT NOT NULL DEFAULT 0,
                model_spend TEXT NOT NULL DEFAULT '{}',
                model_max_budget TEXT NOT NULL DEFAULT '{}',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE "LiteLLM_TeamMembership" (
                user_id TEXT NOT NULL,
                team_id TEXT NOT NULL,
                spend DOUBLE PRECISION NOT NULL DEFAULT 0,
                budget_id TEXT,
                budget_reset_at BIGINT,
                PRIMARY KEY (user_id, team_id))
            """,
            """
            CREATE TABLE "LiteLLM_UserTable" (
                user_id TEXT PRIMARY KEY,
                user_alias TEXT,
                user_email TEXT,
                user_role TEXT,
                teams TEXT NOT NULL DEFAULT '[]',
                organization_id TEXT,
                max_budget DOUBLE PRECISION,
                spend DOUBLE PRECISION NOT NULL DEFAULT 0,
                models TEXT NOT NULL DEFAULT '[]',
                max_parallel_requests BIGINT,
                tpm_limit BIGINT,
                rpm_limit BIGINT,
                budget_duration TEXT,
                budget_reset_at BIGINT,
                metadata TEXT NOT NULL DEFAULT '{}',
                model_spend TEXT NOT NULL DEFAULT '{}',
                model_max_budget TEXT NOT NULL DEFAULT '{}',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE "LiteLLM_EndUserTable" (
                user_id TEXT PRIMARY KEY,
                alias TEXT,
                spend DOUBLE PRECISION NOT NULL DEFAULT 0,
                allowed_model_region TEXT,
                default_model TEXT,
                budget_id TEXT,
                blocked BIGINT NOT NULL DEFAULT 0,
                budget_reset_at BIGINT)
            """,
            """
            CREATE TABLE "LiteLLM_OrganizationMembership" (
                user_id TEXT NOT NULL,
                organization_id TEXT NOT NULL,
                user_role TEXT,
                spend DOUBLE PRECISION NOT NULL DEFAULT 0,
                budget_id TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, organization_id))
            """,
        ]),
        new(3, "Responses API responses the gateway bridged to chat and keeps itself",
        [
            """
            CREATE TABLE "gateway_responses" (
                response_id TEXT PRIMARY KEY,
                owner TEXT,
                model_group TEXT NOT NULL,
                response TEXT NOT NULL,
                input_items TEXT NOT NULL,
                conversation TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL)
            """,
            """CREATE INDEX "gateway_responses_expires_at" ON "gateway_responses" (expires_at)""",
        ]),
    ];

    public static int Latest => All[^1].Version;
}
