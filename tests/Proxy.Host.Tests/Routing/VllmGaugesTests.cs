using Proxy.Abstractions;
using Proxy.Host.Routing;

namespace Proxy.Host.Tests.Routing;

public sealed class VllmGaugesTests
{
    // Shaped like vLLM 0.11's /metrics (V1 engine, two data-parallel engines).
    private const string Page = """
        # HELP vllm:num_requests_running Number of requests in model execution batches.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-8B"} 3.0
        vllm:num_requests_running{engine="1",model_name="Qwen/Qwen3-8B"} 2.0
        # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-8B"} 4.0
        vllm:num_requests_waiting{engine="1",model_name="Qwen/Qwen3-8B"} 0.0
        # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
        # TYPE vllm:kv_cache_usage_perc gauge
        vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-8B"} 0.25
        vllm:kv_cache_usage_perc{engine="1",model_name="Qwen/Qwen3-8B"} 0.5
        vllm:prefix_cache_queries_total{engine="0",model_name="Qwen/Qwen3-8B"} 12345.0
        # HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
        # TYPE vllm:cache_config_info gauge
        vllm:cache_config_info{block_size="16",cache_dtype="auto",calculate_kv_scales="False",enable_prefix_caching="True",engine="0",gpu_memory_utilization="0.9",num_cpu_blocks="None",num_gpu_blocks="27458",num_gpu_blocks_override="None",prefix_caching_hash_algo="sha256",sliding_window="None",swap_space="4",swap_space_bytes="4294967296"} 1.0
        python_gc_objects_collected_total{generation="0"} 1234.0
        # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
        # TYPE process_start_time_seconds gauge
        process_start_time_seconds 1.76459632112e+09
        """;

    [Fact]
    public void Parse_sums_the_queues_and_reads_the_cache_geometry()
    {
        var gauges = VllmGauges.Parse(Page);

        Assert.True(gauges.Found);
        Assert.Equal(5, gauges.Running);
        Assert.Equal(4, gauges.Waiting);
        Assert.Equal(0.5, gauges.KvCacheUsage);
        Assert.Equal(16, gauges.BlockSize);
        Assert.Equal(27458, gauges.GpuBlocks);
        Assert.Equal(1.76459632112e+09, gauges.StartTime);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<html>not metrics</html>")]
    [InlineData("process_cpu_seconds_total 12.5\n")]
    [InlineData("vllm:num_requests_running{engine=\"0\"} NaN\nvllm:num_requests_running{broken 3\n")]
    public void Parse_of_a_page_without_vllm_gauges_finds_nothing(string page) => Assert.False(VllmGauges.Parse(page).Found);

    [Fact]
    public void Metrics_url_is_the_servers_root_and_only_for_hosted_vllm()
    {
        Assert.Equal("http://10.0.0.5:8000/metrics", VllmMetricsScraper.MetricsUrl(Deployment("hosted_vllm", "http://10.0.0.5:8000/v1")));
        Assert.Equal("http://vllm/metrics", VllmMetricsScraper.MetricsUrl(Deployment("hosted_vllm", "http://vllm")));
        Assert.Null(VllmMetricsScraper.MetricsUrl(Deployment("openai", "https://api.openai.com/v1")));
        Assert.Null(VllmMetricsScraper.MetricsUrl(Deployment("hosted_vllm", null)));
    }

    private static Deployment Deployment(string provider, string? apiBase) => new()
    {
        Id = "d",
        ModelGroup = "g",
        Provider = provider,
        UpstreamModel = "m",
        ApiBase = apiBase,
        Timeout = TimeSpan.FromSeconds(1),
        StreamTimeout = TimeSpan.FromSeconds(1),
        Stats = new DeploymentStats(),
        EndpointUris = new Uri?[4],
    };
}
