namespace Kiln.Engine.Lora;

/// <summary>
/// One update as the forward pass reads it: A row-major [rank][in], B row-major [out][rank] (each
/// worker walks its own output rows), and alpha/rank folded into a factor.
/// </summary>
internal sealed class BoundPair(LoraPair pair, float alpha)
{
    public readonly int Rank = pair.Rank;
    public readonly int In = pair.InFeatures;
    public readonly int Out = pair.OutFeatures;
    public readonly float[] A = pair.A;
    public readonly float[] B = pair.B;
    public readonly float Factor = pair.ScaleFactor(alpha);
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
