using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Policies;

/// <summary>What a strategy does with each candidate that <see cref="DeploymentFilter.Visit"/> shows it, in list order.</summary>
internal interface ICandidateVisitor
{
    void Visit(int index, Deployment deployment);
}
