namespace Kiln.Engine.Lora;

/// <summary>
/// One update as the forward pass reads it: A row-major [rank][in], B transposed to [rank][out] so each
/// worker adds rank vector runs over its own output rows, and alpha/rank folded into a factor.
/// </summary>
internal sealed class BoundPair(LoraPair pair, float alpha)
{
    public readonly int Rank = pair.Rank;
    public readonly int In = pair.InFeatures;
    public readonly int Out = pair.OutFeatures;
    public readonly float[] A = pair.A;
    public readonly float[] BT = Transpose(pair.B, pair.OutFeatures, pair.Rank);
    public readonly float Factor = pair.ScaleFactor(alpha);

    private static float[] Transpose(float[] b, int rows, int cols)
    {
        var t = new float[b.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                t[c * rows + r] = b[r * cols + c];
        return t;
    }
}

/// <summary>An adapter validated against a model, indexed [layer * <see cref="LoraModules.Count"/> + module].</summary>
internal sealed class BoundAdapter
{
    public BoundAdapter(LoraAdapter adapter, int layers)
    {
        Adapter = adapter;
        Pairs = new BoundPair?[layers * LoraModules.Count];
        foreach (var p in adapter.Pairs)
        {
            if (!LoraModules.TryParse(p.Target, out var layer, out var module) || layer >= layers)
                throw new LoraMismatchException($"LoRA tensor '{p.Target}' does not exist in the base model");
            Pairs[layer * LoraModules.Count + (int)module] = new BoundPair(p, adapter.Alpha);
        }
        MaxRank = adapter.MaxRank;
    }

    public LoraAdapter Adapter { get; }
    public BoundPair?[] Pairs { get; }
    public int MaxRank { get; }
}
