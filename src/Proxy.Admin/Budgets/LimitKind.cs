namespace Proxy.Admin.Budgets;

internal enum LimitKind
{
    None,
    Requests,
    Tokens,
    ParallelRequests,
}
