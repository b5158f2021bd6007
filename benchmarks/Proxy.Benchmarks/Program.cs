using BenchmarkDotNet.Running;
using Proxy.Benchmarks;

if (args is ["spend-store", .. var rest])
{
    return await SpendStoreBenchmark.RunAsync(rest);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
