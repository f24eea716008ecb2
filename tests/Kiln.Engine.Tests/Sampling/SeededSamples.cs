using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

/// <summary>
/// Seeded sampling settings and a compact fingerprint of what they produce, shared by the tests
/// that pin seeded outputs (a change of sampler internals must not change a seeded request's tokens).
/// </summary>
public static class SeededSamples
{
    private static readonly Dictionary<int, float> Bias = new() { [5] = -100f, [17] = 2.5f, [300] = -1.5f };

    /// <summary>Named settings covering each filter, temperature, the penalties, logit bias and logprobs.</summary>
    public static readonly IReadOnlyDictionary<string, SamplingParams> Settings = new Dictionary<string, SamplingParams>
    {
        ["t0.8"] = new() { Temperature = 0.8f, Seed = 1 },
        ["t0.8 top_p0.95"] = new() { Temperature = 0.8f, TopP = 0.95f, Seed = 2 },
        ["t0.8 min_p0.05"] = new() { Temperature = 0.8f, MinP = 0.05f, Seed = 3 },
        ["t0.8 top_k40"] = new() { Temperature = 0.8f, TopK = 40, Seed = 4 },
        ["t1.3 top_k100 top_p0.9"] = new() { Temperature = 1.3f, TopK = 100, TopP = 0.9f, Seed = 5 },
        ["t0.5 top_p0.5 min_p0.01"] = new() { Temperature = 0.5f, TopP = 0.5f, MinP = 0.01f, Seed = 6 },
        ["t1 top_k2000 top_p0.99"] = new() { TopK = 2000, TopP = 0.99f, Seed = 7 },
        ["t1 penalties"] = new() { RepetitionPenalty = 1.3f, RepetitionLastN = 16, PresencePenalty = 0.4f, FrequencyPenalty = 0.3f, Seed = 8 },
        ["t0.9 bias logprobs"] = new() { Temperature = 0.9f, TopP = 0.9f, LogitBias = Bias, Logprobs = true, TopLogprobs = 5, Seed = 9 },
        ["t2 top_k1"] = new() { Temperature = 2f, TopK = 1, Seed = 10 },
    };

    /// <summary>FNV-1a over token ids: a short, readable pin of a whole sequence.</summary>
    public static string Fingerprint(IEnumerable<int> tokens)
    {
        var hash = 14695981039346656037UL;
        var count = 0;
        foreach (var t in tokens)
        {
            hash = (hash ^ (uint)t) * 1099511628211UL;
            count++;
        }
        return $"{count}:{hash:x16}";
    }
}
