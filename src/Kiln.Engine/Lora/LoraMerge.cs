using System.Runtime.InteropServices;
using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Lora;

/// <summary>
/// Bakes adapters into a float32 base model: W' = W + Σ s·B·A, computed in float64 and rounded once,
/// so a single-adapter deployment runs at base-model speed and gives the adapter run's outputs.
/// </summary>
public static class LoraMerge
{
    /// <summary>
    /// Writes <paramref name="outputPath"/>: the model at <paramref name="basePath"/> with every targeted
    /// weight merged. Adapters are validated first; targeted weights must be F32.
    /// </summary>
    public static void Write(string basePath, string outputPath, IReadOnlyList<(LoraAdapter Adapter, float Scale)> adapters)
    {
        using var file = GgufFile.Open(basePath);
        var config = ModelConfig.FromGguf(file);
        var weights = LlamaWeights.Load(file, config);
        var merged = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var target in Targets(config, weights, adapters))
            merged[target.Name] = Merge(target, adapters);

        var w = new GgufWriter(file.Alignment);
        w.CopyMetadata(file, _ => true);
        foreach (var t in file.Tensors)
        {
            var tensor = t;
            if (merged.TryGetValue(t.Name, out var values))
                w.AddTensor(t.Name, GgmlType.F32, t.Shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            else
                w.AddTensor(t.Name, t.Type, t.Shape, s => s.Write(file.TensorBytes(tensor)));
        }
        w.Write(outputPath);
    }

    /// <summary>Throws what <see cref="Write"/> would refuse these adapters on this base for, without merging anything.</summary>
    public static void Check(string basePath, IReadOnlyList<(LoraAdapter Adapter, float Scale)> adapters)
    {
        using var file = GgufFile.Open(basePath);
        var config = ModelConfig.FromGguf(file);
        _ = Targets(config, LlamaWeights.Load(file, config), adapters);
    }

    /// <summary>The base weights the adapters change, after validating the adapters and the weights' type.</summary>
    private static List<WeightMatrix> Targets(ModelConfig config, LlamaWeights weights, IReadOnlyList<(LoraAdapter Adapter, float Scale)> adapters)
    {
        foreach (var (adapter, _) in adapters) adapter.Validate(config, weights);
        var targets = adapters.SelectMany(a => a.Adapter.Pairs).Select(p => p.Target).Distinct().Select(t => weights.FindMatrix(t)!).ToList();
        foreach (var weight in targets) RequireF32(weight);
        return targets;
    }

    private static void RequireF32(WeightMatrix weight)
    {
        if (weight.Type != GgmlType.F32)
            throw new NotSupportedException($"merging needs F32 weights, but '{weight.Name}' is {weight.Type}");
    }

    /// <summary>The merged values of one F32 weight, row-major [rows][cols].</summary>
    public static float[] Merge(WeightMatrix weight, IReadOnlyList<(LoraAdapter Adapter, float Scale)> adapters)
    {
        RequireF32(weight);
        var rows = weight.Rows;
        var cols = weight.Cols;
        var delta = new double[cols];
        var result = new float[rows * cols];
        var updates = adapters
            .SelectMany(a => a.Adapter.Pairs.Where(p => p.Target == weight.Name)
                .Select(p => (Pair: p, Scale: (double)a.Scale * p.ScaleFactor(a.Adapter.Alpha))))
            .ToArray();
        var w = MemoryMarshal.Cast<byte, float>(weight.Bytes);
        for (var o = 0; o < rows; o++)
        {
            Array.Clear(delta);
            foreach (var (p, scale) in updates)
                for (var k = 0; k < p.Rank; k++)
                {
                    var b = scale * p.B[o * p.Rank + k];
                    for (var i = 0; i < cols; i++) delta[i] += b * p.A[k * cols + i];
                }
            for (var i = 0; i < cols; i++) result[o * cols + i] = (float)(w[o * cols + i] + delta[i]);
        }
        return result;
    }
}
