namespace Proxy.Admin.Ui;

/// <summary>The admin UI's start-up settings (LiteLLM's environment variables, read once by the host).</summary>
public sealed record UiOptions
{
    /// <summary>False with DISABLE_ADMIN_UI=True: /ui, /login and cookie sessions do not exist.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>UI_USERNAME (default "admin").</summary>
    public string Username { get; init; } = "admin";

    /// <summary>UI_PASSWORD; null means the master key is the password, as in LiteLLM.</summary>
    public Secret? Password { get; init; }

    /// <summary>LITELLM_UI_SESSION_DURATION (default 24 h).</summary>
    public TimeSpan SessionDuration { get; init; } = TimeSpan.FromHours(24);

    /// <summary>STORE_MODEL_IN_DB: the Models page offers add and delete.</summary>
    public bool StoreModelInDb { get; init; }

    /// <summary>Failed logins from one address within <see cref="FailedLoginWindow"/> before further attempts get a 429.</summary>
    public int MaxFailedLogins { get; init; } = 5;

    public TimeSpan FailedLoginWindow { get; init; } = TimeSpan.FromMinutes(1);
}
