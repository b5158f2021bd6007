namespace Proxy.Abstractions;

/// <summary>
/// The models kept in the database, shared by the admin API (which stores them) and the host (which merges them with
/// the config file's model_list into the next snapshot). The host sets <see cref="Validator"/> and listens to
/// <see cref="Changed"/>; the admin side calls <see cref="Validate"/> before it stores anything.
/// </summary>
public sealed class StoredModelCatalog
{
    private volatile IReadOnlyList<StoredModel> _models = [];

    public IReadOnlyList<StoredModel> Models => _models;

    /// <summary>Returns every reason the given list would not load (empty when it would).</summary>
    public Func<IReadOnlyList<StoredModel>, IReadOnlyList<string>>? Validator { get; set; }

    /// <summary>Raised after <see cref="Replace"/>: the host builds and applies a new snapshot.</summary>
    public event Action? Changed;

    public IReadOnlyList<string> Validate(IReadOnlyList<StoredModel> candidate) => Validator?.Invoke(candidate) ?? [];

    public void Replace(IReadOnlyList<StoredModel> models)
    {
        _models = models;
        Changed?.Invoke();
    }
}
