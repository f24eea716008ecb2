using System.Text.Json;
using Kiln.Engine.Tests.Models;

namespace Kiln.Engine.Tests.Lora;

/// <summary>A LoRA reference file: base model, the adapters applied (file and user scale), and cases.</summary>
public sealed record LoraGolden(
    string BaseModel,
    bool DequantizedBase,
    IReadOnlyList<(string File, float Scale, double EffectiveScale)> Adapters,
    double LogitAbs,
    double LogsumexpAbs,
    IReadOnlyList<(LogitGoldenCase Case, int StablePrefix)> Cases)
{
    public static LoraGolden Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedFiles.GoldenFile("lora", name)));
        var root = doc.RootElement;
        var tol = root.GetProperty("tolerance");
        var adapters = root.GetProperty("adapters").EnumerateArray()
            .Select(a => (a.GetProperty("file").GetString()!, a.GetProperty("scale").GetSingle(), a.GetProperty("effective_scale").GetDouble()))
            .ToArray();
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => (new LogitGoldenCase(
            c.GetProperty("prompt").GetString()!,
            Ints(c.GetProperty("prompt_tokens")),
            Ints(c.GetProperty("greedy_tokens")),
            c.GetProperty("greedy_text").GetString()!,
            null,
            c.GetProperty("positions").EnumerateArray().Select(pos => new LogitPosition(
                pos.GetProperty("top").EnumerateArray().Select(t => (t[0].GetInt32(), t[1].GetDouble())).ToArray(),
                pos.GetProperty("logsumexp").GetDouble())).ToArray()), c.GetProperty("greedy_stable_prefix").GetInt32())).ToArray();
        return new LoraGolden(
            root.GetProperty("base_model").GetString()!,
            root.GetProperty("base_weights").GetString() != "as stored",
            adapters,
            tol.GetProperty("logit_abs").GetDouble(),
            tol.GetProperty("logsumexp_abs").GetDouble(),
            cases);
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
