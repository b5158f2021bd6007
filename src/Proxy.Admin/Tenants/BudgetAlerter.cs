using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Proxy.Admin.Tenants;

/// <summary>
/// soft_budget alerts, off the request path: requests only enqueue (bounded; a flood drops, counted); this service logs
/// one warning per crossing (once per budget window, see <see cref="TenantEntry.CrossedSoftBudget"/>), counts it for
/// the metric, and POSTs LiteLLM's webhook event to general_settings.alerting_webhook_url with a 5-second timeout and
/// three tries, one second apart and doubling.
/// </summary>
internal sealed partial class BudgetAlerter(AdminOptions options, TimeProvider time, ILogger<BudgetAlerter> logger) : BackgroundService, ISoftBudgetAlerts
{
    private static readonly string[] AlertKinds = ["key", "team", "team_member", "user", "customer", "organization", "proxy"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private const int Tries = 3;

    private readonly Channel<BudgetAlert> _alerts = Channel.CreateBounded<BudgetAlert>(new BoundedChannelOptions(1000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private readonly long[] _counts = new long[AlertKinds.Length];
    private long _failed;
    private HttpClient? _http;

    public IReadOnlyList<string> Kinds => AlertKinds;

    public long Count(string kind)
    {
        var index = Array.IndexOf(AlertKinds, kind);
        return index < 0 ? 0 : Interlocked.Read(ref _counts[index]);
    }

    public long FailedDeliveries => Interlocked.Read(ref _failed);

    public void Raise(BudgetAlert alert)
    {
        var index = Array.IndexOf(AlertKinds, alert.Group);
        if (index >= 0)
        {
            Interlocked.Increment(ref _counts[index]);
        }

        _alerts.Writer.TryWrite(alert);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.AlertingWebhookUrl is not null)
        {
            _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout };
        }

        try
        {
            await foreach (var alert in _alerts.Reader.ReadAllAsync(stoppingToken))
            {
                Log.SoftBudgetCrossed(logger, alert.Group, alert.Id, alert.Spend, alert.SoftBudget);
                if (_http is not null)
                {
                    await DeliverAsync(_http, alert, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(HttpClient http, BudgetAlert alert, CancellationToken cancellationToken)
    {
        var body = Serialize(alert);
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; attempt <= Tries; attempt++)
        {
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(options.AlertingWebhookUrl, content, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                Log.WebhookFailed(logger, attempt, $"HTTP {(int)response.StatusCode}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.WebhookFailed(logger, attempt, ex.Message);
            }

            if (attempt < Tries)
            {
                await Task.Delay(delay, time, cancellationToken);
                delay *= 2;
            }
        }

        Interlocked.Increment(ref _failed);
    }

    /// <summary>LiteLLM's WebhookEvent: event, event_group, event_message, spend, max_budget and the ids.</summary>
    internal static string Serialize(BudgetAlert alert)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", "soft_budget_crossed");
            json.WriteString("event_group", alert.Group);
            json.WriteString("event_message", $"{alert.Group} {alert.Id} crossed its soft budget: spend {alert.Spend.ToString(System.Globalization.CultureInfo.InvariantCulture)} >= soft_budget {alert.SoftBudget.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            json.WriteNumber("spend", alert.Spend);
            json.WriteNumber("soft_budget", alert.SoftBudget);
            if (alert.MaxBudget is { } max)
            {
                json.WriteNumber("max_budget", max);
            }
            else
            {
                json.WriteNull("max_budget");
            }

            json.WriteString("token", alert.Token);
            json.WriteString("key_alias", alert.Group == "key" ? alert.Alias : null);
            json.WriteString("team_id", alert.TeamId);
            json.WriteString("team_alias", alert.Group == "team" ? alert.Alias : null);
            json.WriteString("user_id", alert.UserId);
            json.WriteString("customer_id", alert.CustomerId);
            json.WriteString("organization_id", alert.Group == "organization" ? alert.Id : null);
            if (alert.BudgetResetAtMs is { } reset)
            {
                json.WriteString("budget_reset_at", Budgets.KeyErrors.Iso(reset));
            }
            else
            {
                json.WriteNull("budget_reset_at");
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public override void Dispose()
    {
        _http?.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4301, LogLevel.Warning, "Soft budget crossed: {Group} {Id} has spent {Spend} USD of its soft_budget {SoftBudget} USD")]
        public static partial void SoftBudgetCrossed(ILogger logger, string group, string id, double spend, double softBudget);

        [LoggerMessage(4302, LogLevel.Warning, "Soft-budget webhook delivery failed (try {Attempt}): {Reason}")]
        public static partial void WebhookFailed(ILogger logger, int attempt, string reason);
    }
}
