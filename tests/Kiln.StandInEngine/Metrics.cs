using System.Globalization;
using System.Text;

namespace Kiln.StandInEngine;

/// <summary>
/// The stand-in's load, exposed under the metric names of the engine it stands in for (with a
/// <c>model_name</c> label, as vLLM and SGLang label theirs). <see cref="Force"/> adds a fixed load on
/// top of the real requests, so a test can drive an autoscaler through the engine's own names.
/// </summary>
public sealed class Metrics(Dialect dialect, string modelName, int maxBatch)
{
    private long _running;
    private long _prompt;
    private long _generated;
    private (double Running, double Waiting, double Kv) _forced;

    public void Started() => Interlocked.Increment(ref _running);

    public void Finished(int prompt, int generated)
    {
        Interlocked.Decrement(ref _running);
        Interlocked.Add(ref _prompt, prompt);
        Interlocked.Add(ref _generated, generated);
    }

    public void Force(double running, double waiting, double kv) => _forced = (running, waiting, kv);

    public string Render()
    {
        var running = Interlocked.Read(ref _running) + _forced.Running;
        var kv = Math.Max(_forced.Kv, Math.Min(1, running / maxBatch));
        var (run, wait, cache, gen, prompt) = dialect switch
        {
            Dialect.Vllm => ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:generation_tokens_total", "vllm:prompt_tokens_total"),
            Dialect.Sglang => ("sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage", "sglang:generation_tokens_total", "sglang:prompt_tokens_total"),
            _ => ("llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:kv_cache_usage_ratio", "llamacpp:tokens_predicted_total", "llamacpp:prompt_tokens_total"),
        };
        var sb = new StringBuilder();
        Write(sb, run, "gauge", running);
        Write(sb, wait, "gauge", _forced.Waiting);
        Write(sb, cache, "gauge", kv);
        Write(sb, gen, "counter", Interlocked.Read(ref _generated));
        Write(sb, prompt, "counter", Interlocked.Read(ref _prompt));
        return sb.ToString();
    }

    private void Write(StringBuilder sb, string name, string type, double value)
    {
        // Prometheus counters carry the _total suffix on the sample and not on the family.
        var family = type == "counter" && name.EndsWith("_total", StringComparison.Ordinal) ? name[..^6] : name;
        sb.Append("# HELP ").Append(family).Append(" Stand-in for ").Append(dialect).Append(".\n");
        sb.Append("# TYPE ").Append(family).Append(' ').Append(type).Append('\n');
        sb.Append(name).Append("{model_name=\"").Append(modelName.Replace("\"", "\\\"")).Append("\"} ")
          .Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
