using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Policies;

/// <summary>What a strategy does with each candidate that <see cref="DeploymentFilter.Visit"/> lets through, in list order.</summary>
internal interface ICandidateVisitor
{
    /// <summary>A deployment of a lower order tier passed: forget every candidate visited so far.</summary>
    void Restart();

    void Visit(int index, Deployment deployment);
}
