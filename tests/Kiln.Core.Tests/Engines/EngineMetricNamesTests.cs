using Kiln.Core.Engines;

namespace Kiln.Core.Tests.Engines;

public class EngineMetricNamesTests
{
    private static Func<string, double?> Scrape(params (string Name, double Value)[] samples) =>
        name => samples.Any(s => s.Name == name) ? samples.Where(s => s.Name == name).Sum(s => s.Value) : null;

    [Fact]
    public void Vllm_signals_come_from_its_metric_names_and_the_newer_kv_name_wins()
    {
        var load = EngineProfiles.Vllm.Metrics.Read(Scrape(
            ("vllm:num_requests_running", 64), ("vllm:num_requests_waiting", 3), ("vllm:kv_cache_usage_perc", 0.4),
            ("vllm:gpu_cache_usage_perc", 0.9), ("vllm:generation_tokens_total", 1000), ("vllm:prompt_tokens_total", 500)), 256);
        Assert.Equal(new ReplicaLoadSignals(64, 3, 0.4, 0.4, 1000, 500), load);
    }

    [Fact]
    public void An_older_vllm_kv_name_is_read_when_the_newer_is_missing_and_occupancy_is_the_higher_of_batch_and_cache()
    {
        var load = EngineProfiles.Vllm.Metrics.Read(Scrape(("vllm:num_requests_running", 192), ("vllm:gpu_cache_usage_perc", 0.5)), 256);
        Assert.Equal(0.5, load.KvCacheUsage);
        Assert.Equal(0.75, load.BatchOccupancy);
    }

    [Fact]
    public void A_deployments_own_max_batch_is_the_denominator_of_its_occupancy()
    {
        // A shape running vLLM at 32 sequences: 16 running is half full, not 16/256 of the profile's default.
        var profile = EngineProfiles.Vllm.ForDeployment(32);
        Assert.Equal(32, profile.MaxBatch);
        Assert.Equal(0.5, profile.Metrics.Read(Scrape(("vllm:num_requests_running", 16)), profile.MaxBatch).BatchOccupancy);
        Assert.Same(EngineProfiles.Vllm, EngineProfiles.Vllm.ForDeployment(null));
        Assert.Same(EngineProfiles.Vllm, EngineProfiles.Vllm.ForDeployment(EngineProfiles.Vllm.MaxBatch));
    }

    [Fact]
    public void Sglang_and_llama_server_names_map_onto_the_same_signals()
    {
        var sglang = EngineProfiles.Sglang.Metrics.Read(Scrape(("sglang:num_running_reqs", 2), ("sglang:num_queue_reqs", 5), ("sglang:token_usage", 0.1)), 256);
        Assert.Equal((2, 5, 0.1), (sglang.Running, sglang.Waiting, sglang.KvCacheUsage));
        var llama = EngineProfiles.LlamaServer.Metrics.Read(Scrape(("llamacpp:requests_processing", 4), ("llamacpp:requests_deferred", 1), ("llamacpp:tokens_predicted_total", 7)), 8);
        Assert.Equal((4, 1, 0.5, 7.0), (llama.Running, llama.Waiting, llama.BatchOccupancy, llama.GeneratedTokens));
    }

    [Fact]
    public void Kiln_reports_its_own_occupancy_and_a_scrape_without_the_names_reads_as_idle()
    {
        Assert.Equal(0.25, EngineProfiles.Kiln.Metrics.Read(Scrape(("kiln_batch_occupancy", 0.25), ("kiln_active_sequences", 8)), 8).BatchOccupancy);
        Assert.Equal(new ReplicaLoadSignals(0, 0, 0, 0, 0, 0), EngineProfiles.Vllm.Metrics.Read(Scrape(("other", 1)), 256));
    }

    [Fact]
    public void A_replica_shows_no_requests_only_when_it_reports_zero_running_and_zero_waiting()
    {
        var names = EngineProfiles.Vllm.Metrics;
        Assert.True(names.ShowsNoRequests(Scrape(("vllm:num_requests_running", 0), ("vllm:num_requests_waiting", 0))));
        Assert.False(names.ShowsNoRequests(Scrape(("vllm:num_requests_running", 1), ("vllm:num_requests_waiting", 0))));
        Assert.False(names.ShowsNoRequests(Scrape(("vllm:num_requests_running", 0), ("vllm:num_requests_waiting", 2))));
        // A figure missing (or not a number) says nothing, so the replica is not taken for quiet.
        Assert.False(names.ShowsNoRequests(Scrape(("vllm:num_requests_running", 0))));
        Assert.False(names.ShowsNoRequests(Scrape(("vllm:num_requests_running", 0), ("vllm:num_requests_waiting", double.NaN))));
        Assert.False(new EngineMetricNames().ShowsNoRequests(Scrape(("vllm:num_requests_running", 0), ("vllm:num_requests_waiting", 0))));
    }
}
