namespace Proxy.Abstractions;

/// <summary>Finds the deployment behind a YARP destination id in the configuration now in force.</summary>
public interface IDeploymentCatalog
{
    bool TryGet(string destinationId, out Deployment deployment);
}
