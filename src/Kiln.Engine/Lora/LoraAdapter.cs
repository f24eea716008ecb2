using Kiln.Engine.Models;

namespace Kiln.Engine.Lora;

/// <summary>
/// A LoRA adapter in memory, in GGUF orientation whatever form it was read from. The update of a
/// targeted weight W is y = W·x + s·B·(A·x), s = user scale · alpha / rank (user scale when alpha is 0).
/// </summary>
public sealed class LoraAdapter
{
    public LoraAdapter(string name, string? architecture, float alpha, IReadOnlyList<LoraPair> pairs)
    {
        if (pairs.Count == 0) throw new InvalidDataException($"adapter '{name}' has no LoRA tensors");
        if (!float.IsFinite(alpha)) throw new InvalidDataException($"adapter '{name}' has a non-finite alpha");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in pairs)
            if (!seen.Add(p.Target)) throw new InvalidDataException($"adapter '{name}' has two updates for '{p.Target}'");
        Name = name;
        Architecture = architecture;
        Alpha = alpha;
        Pairs = pairs;
    }

    public string Name { get; }

    /// <summary>The base architecture the adapter declares; null when the format does not record it (PEFT).</summary>
    public string? Architecture { get; }

    public float Alpha { get; }
    public IReadOnlyList<LoraPair> Pairs { get; }

    /// <summary>The largest rank among the pairs.</summary>
    public int MaxRank => Pairs.Max(p => p.Rank);

    /// <summary>
    /// Reads a llama.cpp LoRA GGUF file or a Hugging Face PEFT folder (or its adapter_config.json).
    /// PEFT q/k updates are re-ordered for the base's RoPE layout, which needs <paramref name="baseModel"/>.
    /// Throws <see cref="InvalidDataException"/> (or <see cref="NotSupportedException"/>) with the reason.
    /// </summary>
    public static LoraAdapter Load(string path, ModelConfig? baseModel = null)
    {
        if (Directory.Exists(path)) return PeftLoraReader.Read(path, baseModel);
        if (!File.Exists(path)) throw new FileNotFoundException($"adapter not found: {path}", path);
        if (Path.GetFileName(path) is "adapter_config.json" or "adapter_model.safetensors")
            return PeftLoraReader.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, baseModel);
        return GgufLoraReader.Read(path);
    }

    /// <summary>
    /// Checks that every update fits the base model: same architecture, target tensor present, and
    /// shapes matching. Throws <see cref="LoraMismatchException"/> naming the first mismatch.
    /// </summary>
    public void Validate(ModelConfig config, LlamaWeights weights)
    {
        if (Architecture is not null && Architecture != config.Architecture)
            throw new LoraMismatchException(
                $"adapter '{Name}' is for architecture '{Architecture}' but the base model is '{config.Architecture}'");
        foreach (var p in Pairs)
        {
            var w = weights.FindMatrix(p.Target) ?? throw new LoraMismatchException(
                LoraModules.TryParse(p.Target, out _, out _) || p.Target.StartsWith("blk.", StringComparison.Ordinal)
                    ? $"LoRA tensor '{p.Target}' does not exist in the base model"
                    : $"LoRA tensor '{p.Target}' targets a weight Kiln does not adapt (only attention and feed-forward projections)");
            if (w.Cols != p.InFeatures || w.Rows != p.OutFeatures)
                throw new LoraMismatchException(
                    $"tensor '{p.Target}' has incorrect shape: the adapter's {p.ShapeText} update a [{p.OutFeatures}, {p.InFeatures}] weight " +
                    $"but the base model's is [{w.Rows}, {w.Cols}] (rows × columns); is the adapter for another base model?");
        }
    }

    public void Validate(LlamaModel model) => model.ValidateAdapter(this);

    public override string ToString() => $"{Name} ({Pairs.Count} updates, rank ≤ {MaxRank}, alpha {Alpha})";
}
