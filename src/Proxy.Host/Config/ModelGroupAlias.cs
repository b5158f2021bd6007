namespace Proxy.Host.Config;

/// <summary>One <c>router_settings.model_group_alias</c> value: <c>alias: group</c> or <c>alias: {model, hidden}</c>.</summary>
internal sealed record ModelGroupAlias
{
    public required string Model { get; init; }

    public bool Hidden { get; init; }
}
