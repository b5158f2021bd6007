using System.Collections.ObjectModel;

namespace Proxy.Host.Config;

/// <summary>Shared empty dictionaries for record defaults.</summary>
internal static class EmptyMap
{
    public static readonly IReadOnlyDictionary<string, string> Strings = ReadOnlyDictionary<string, string>.Empty;

    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> StringLists =
        ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty;

    public static readonly IReadOnlyDictionary<string, ModelGroupAlias> Aliases = ReadOnlyDictionary<string, ModelGroupAlias>.Empty;
}
