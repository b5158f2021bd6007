namespace Proxy.Abstractions;

/// <summary>Hears of each deployment this replica puts into cooldown, to tell the other replicas (router_settings.redis_*).</summary>
public interface ICooldownBroadcaster
{
    void CooledDown(Deployment deployment, TimeSpan period);
}
