using BenchmarkDotNet.Running;
using Proxy.Benchmarks;

if (args is ["spend-store", .. var rest])
{
    return await SpendStoreBenchmark.RunAsync(rest);
}

if (args is ["semantic-lookup", .. var lookupArgs])
{
    return SemanticLookupBenchmark.Run(lookupArgs);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
