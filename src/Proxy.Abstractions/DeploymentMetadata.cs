using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Proxy.Abstractions;

/// <summary>
/// The metadata of a YARP destination, carrying the <see cref="Abstractions.Deployment"/> it stands for, so that a policy
/// reaches the deployment's facts and counters from a DestinationState without a lookup. To YARP it is an ordinary
/// string dictionary (deployment id, model group, config version).
/// </summary>
public sealed class DeploymentMetadata : IReadOnlyDictionary<string, string>
{
    private readonly Dictionary<string, string> _values;

    public DeploymentMetadata(Deployment deployment, int configVersion)
    {
        Deployment = deployment;
        // The version makes every reload look like a change to YARP, so it always picks up the new Deployment object.
        _values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["deployment.id"] = deployment.Id,
            ["deployment.group"] = deployment.ModelGroup,
            ["config.version"] = configVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    public Deployment Deployment { get; }

    public string this[string key] => _values[key];

    public IEnumerable<string> Keys => _values.Keys;

    public IEnumerable<string> Values => _values.Values;

    public int Count => _values.Count;

    public bool ContainsKey(string key) => _values.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _values.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
