using Proxy.Admin.Ui;
using Proxy.Host.Routing;

namespace Proxy.Host.Auth;

/// <summary>The admin UI's view of the master key, read from the live snapshot so that a reload applies at once.</summary>
internal sealed class SnapshotMasterKeyAccess(GatewayState state) : IMasterKeyAccess
{
    public bool IsConfigured => state.Current.MasterKey.IsConfigured;

    public bool Matches(ReadOnlySpan<char> presented) => state.Current.MasterKey.Matches(presented);

    public byte[] Derive(ReadOnlySpan<byte> label) => state.Current.MasterKey.Derive(label);
}
