using System.Globalization;
using System.Text;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary><c>GET /metrics</c> in the Prometheus text exposition format (zeros until the model loads).</summary>
internal static class MetricsEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, ReplicaState state)
    {
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await ctx.Response.WriteAsync(Render(state), ctx.RequestAborted);
    }

    public static string Render(ReplicaState state)
    {
        var m = state.Session?.Scheduler.Metrics;
        var sb = new StringBuilder();
        var maxBatch = m?.MaxBatchSize ?? state.Options.MaxBatchSize;
        var active = m?.ActiveSequences ?? 0;

        Gauge(sb, "kiln_model_loaded", "1 once the model is loaded and serving.", state.Session is null ? 0 : 1);
        Gauge(sb, "kiln_batch_occupancy", "Active sequences divided by the maximum batch size.", maxBatch == 0 ? 0 : (double)active / maxBatch);
        Gauge(sb, "kiln_active_sequences", "Sequences holding a slot (prefilling or decoding).", active);
        Gauge(sb, "kiln_max_batch_size", "Maximum sequences decoded together.", maxBatch);
        Gauge(sb, "kiln_queue_depth", "Sequences waiting for a slot.", m?.QueueDepth ?? 0);
        Counter(sb, "kiln_prompt_tokens_total", "Prompt tokens admitted for processing.", m?.PromptTokens ?? 0);
        Counter(sb, "kiln_generated_tokens_total", "Tokens sampled.", m?.GeneratedTokens ?? 0);

        var prefix = state.Session?.Scheduler.PrefixCache;
        Counter(sb, "kiln_prefix_cache_queries_total", "Sequences whose prompt was looked up in the prefix cache.", prefix?.Queries ?? 0);
        Counter(sb, "kiln_prefix_cache_hits_total", "Sequences that reused at least one cached prefix block.", prefix?.Hits ?? 0);
        Counter(sb, "kiln_prefix_cache_query_tokens_total", "Prompt tokens looked up in the prefix cache.", prefix?.QueryTokens ?? 0);
        Counter(sb, "kiln_prefix_cache_hit_tokens_total", "Prompt tokens whose KV came from the prefix cache instead of a forward pass.", prefix?.HitTokens ?? 0);
        Counter(sb, "kiln_prefix_cache_evictions_total", "Prefix cache blocks evicted to make room.", prefix?.Evictions ?? 0);
        Gauge(sb, "kiln_prefix_cache_bytes", "Bytes of KV the prefix cache holds.", prefix?.UsedBytes ?? 0);
        Gauge(sb, "kiln_prefix_cache_capacity_bytes", "The prefix cache's budget in bytes (0: off).", prefix?.CapacityBytes ?? (long)state.Options.PrefixCacheMb << 20);

        sb.Append("# HELP kiln_time_to_first_token_seconds Time from submission to the first sampled token.\n");
        sb.Append("# TYPE kiln_time_to_first_token_seconds histogram\n");
        var (buckets, sum, count) = m?.TimeToFirstToken() ?? (new long[SchedulerMetrics.TimeToFirstTokenBuckets.Length], 0, 0);
        for (var i = 0; i < buckets.Length; i++)
            sb.Append("kiln_time_to_first_token_seconds_bucket{le=\"").Append(Num(SchedulerMetrics.TimeToFirstTokenBuckets[i]))
              .Append("\"} ").Append(buckets[i]).Append('\n');
        sb.Append("kiln_time_to_first_token_seconds_bucket{le=\"+Inf\"} ").Append(count).Append('\n');
        sb.Append("kiln_time_to_first_token_seconds_sum ").Append(Num(sum)).Append('\n');
        sb.Append("kiln_time_to_first_token_seconds_count ").Append(count).Append('\n');

        var spec = state.Session?.Scheduler.Speculation;
        Counter(sb, "kiln_spec_decode_num_drafts_total", "Sequence steps that proposed draft tokens (speculative decoding).", spec?.Drafts ?? 0);
        Counter(sb, "kiln_spec_decode_num_draft_tokens_total", "Draft tokens proposed.", spec?.DraftTokens ?? 0);
        Counter(sb, "kiln_spec_decode_num_accepted_tokens_total", "Draft tokens the model accepted.", spec?.AcceptedTokens ?? 0);
        Gauge(sb, "kiln_spec_decode_acceptance_rate", "Accepted over proposed draft tokens since start (0 before any proposal).", spec?.AcceptanceRate ?? 0);
        Counter(sb, "kiln_spec_decode_proposal_failures_total", "Steps whose draft model failed (those sequences decoded without drafts).", spec?.ProposalFailures ?? 0);

        sb.Append("# HELP kiln_requests_total Finished sequences (one per choice) by finish reason.\n");
        sb.Append("# TYPE kiln_requests_total counter\n");
        foreach (var reason in Enum.GetValues<FinishReason>())
            sb.Append("kiln_requests_total{finish_reason=\"").Append(reason.ToApiString()).Append("\"} ")
              .Append(m?.Finished(reason) ?? 0).Append('\n');
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, double value) => Metric(sb, name, help, "gauge", Num(value));

    private static void Counter(StringBuilder sb, string name, string help, long value) =>
        Metric(sb, name, help, "counter", value.ToString(CultureInfo.InvariantCulture));

    private static void Metric(StringBuilder sb, string name, string help, string type, string value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
          .Append(name).Append(' ').Append(value).Append('\n');

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
