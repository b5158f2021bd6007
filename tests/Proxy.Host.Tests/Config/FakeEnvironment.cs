namespace Proxy.Host.Tests.Config;

/// <summary>A dictionary-backed process environment for the loader's getEnv/setEnv.</summary>
internal sealed class FakeEnvironment
{
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);

    public FakeEnvironment(params (string Name, string Value)[] variables)
    {
        foreach (var (name, value) in variables)
        {
            _variables[name] = value;
        }
    }

    public List<string> SetCalls { get; } = [];

    public string? Get(string name) => _variables.TryGetValue(name, out var value) ? value : null;

    public void Set(string name, string? value)
    {
        SetCalls.Add(name);
        if (value is null)
        {
            _variables.Remove(name);
        }
        else
        {
            _variables[name] = value;
        }
    }
}
