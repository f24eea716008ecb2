using Kiln.Engine.Lora;
using Kiln.Engine.Models;

namespace Kiln.Bench;

/// <summary>Seeded random adapters of a given rank on every projection of every layer, for benchmarks.</summary>
public static class SyntheticLora
{
    public static LoraAdapter Create(LlamaModel model, int rank, int seed)
    {
        var rng = new Random(seed);
        var c = model.Config;
        var qDim = c.HeadCount * c.HeadDim;
        var kvDim = c.HeadCountKv * c.HeadDim;
        var shapes = new (LoraModule Module, int In, int Out)[]
        {
            (LoraModule.AttnQ, c.EmbeddingLength, qDim),
            (LoraModule.AttnK, c.EmbeddingLength, kvDim),
            (LoraModule.AttnV, c.EmbeddingLength, kvDim),
            (LoraModule.AttnOutput, qDim, c.EmbeddingLength),
            (LoraModule.FfnGate, c.EmbeddingLength, c.FeedForwardLength),
            (LoraModule.FfnUp, c.EmbeddingLength, c.FeedForwardLength),
            (LoraModule.FfnDown, c.FeedForwardLength, c.EmbeddingLength),
        };
        var pairs = new List<LoraPair>();
        for (var l = 0; l < c.BlockCount; l++)
            foreach (var (module, nIn, nOut) in shapes)
                pairs.Add(new LoraPair(LoraModules.TensorName(l, module), rank, nIn, nOut,
                    Random(rng, rank * nIn, 1 / MathF.Sqrt(nIn)), Random(rng, nOut * rank, 0.01f)));
        return new LoraAdapter($"synthetic-r{rank}-{seed}", c.Architecture, rank, pairs);
    }

    private static float[] Random(Random rng, int n, float scale)
    {
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * 1.7320508f * scale; // unit variance × scale
        return v;
    }
}
