namespace Proxy.Abstractions;

/// <summary>
/// A secret value (master key, upstream api key, password). It prints as "***" so that it can never reach a log
/// line or an API response by accident; code that needs the value reads <see cref="Value"/> explicitly.
/// </summary>
public readonly struct Secret : IEquatable<Secret>
{
    public Secret(string value) => Value = value;

    public string Value { get; }

    public bool IsEmpty => string.IsNullOrEmpty(Value);

    public override string ToString() => "***";

    public bool Equals(Secret other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is Secret other && Equals(other);

    public override int GetHashCode() => Value is null ? 0 : StringComparer.Ordinal.GetHashCode(Value);

    public static bool operator ==(Secret left, Secret right) => left.Equals(right);

    public static bool operator !=(Secret left, Secret right) => !left.Equals(right);
}
