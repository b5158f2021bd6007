namespace Proxy.Admin.Models;

/// <summary>The one <see cref="StoredSecretCipher"/> of this gateway (null without a salt key or master key).</summary>
internal sealed class StoredModelSecrets(AdminOptions options)
{
    public StoredSecretCipher? Cipher { get; } = StoredSecretCipher.Create(options.SaltKey?.Value, options.MasterKey?.Value);
}
