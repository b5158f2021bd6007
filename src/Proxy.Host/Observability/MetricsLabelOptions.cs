namespace Proxy.Host.Observability;

/// <summary>Which optional labels the metrics carry: customers only with litellm_settings.prometheus_end_user_label (bounded cardinality).</summary>
internal sealed record MetricsLabelOptions(bool EndUserLabel);
