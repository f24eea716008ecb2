using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Lora;

/// <summary>
/// Reads llama.cpp's LoRA GGUF: general.type = adapter, adapter.type = lora, adapter.lora.alpha, and
/// tensor pairs <c>&lt;base name&gt;.lora_a</c> (ne [n_in, r]) / <c>.lora_b</c> (ne [r, n_out]) of any
/// type Kiln can dequantize. Values are expanded to float32.
/// </summary>
internal static class GgufLoraReader
{
    public static LoraAdapter Read(string path)
    {
        using var file = GgufFile.Open(path);
        return Read(file, Path.GetFileNameWithoutExtension(path));
    }

    public static LoraAdapter Read(GgufFile file, string fallbackName)
    {
        var type = file.GetString("general.type");
        if (type != "adapter")
            throw new InvalidDataException($"not a LoRA adapter: general.type is {Quote(type)}, expected 'adapter'");
        var adapterType = file.GetString("adapter.type");
        if (adapterType != "lora")
            throw new InvalidDataException($"adapter.type is {Quote(adapterType)}; only 'lora' adapters are supported");
        var arch = file.GetString("general.architecture")
            ?? throw new InvalidDataException("adapter has no general.architecture");
        var alpha = file.GetFloat("adapter.lora.alpha", 0f);
        var name = file.GetString("general.name") ?? fallbackName;

        var halves = new Dictionary<string, (GgufTensorInfo? A, GgufTensorInfo? B)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var t in file.Tensors)
        {
            if (t.Name.EndsWith("_norm.weight", StringComparison.Ordinal)) continue;
            bool isA = t.Name.EndsWith(".lora_a", StringComparison.Ordinal);
            if (!isA && !t.Name.EndsWith(".lora_b", StringComparison.Ordinal))
                throw new InvalidDataException($"tensor '{t.Name}' is neither a .lora_a nor a .lora_b tensor");
            var target = t.Name[..^".lora_a".Length];
            if (!halves.TryGetValue(target, out var pair)) order.Add(target);
            halves[target] = isA ? pair with { A = t } : pair with { B = t };
        }

        var pairs = new List<LoraPair>(order.Count);
        foreach (var target in order)
        {
            var (a, b) = halves[target];
            if (a is null || b is null)
                throw new InvalidDataException($"LoRA tensor '{target}' lacks its {(a is null ? "lora_a" : "lora_b")} half");
            if (target == "token_embd.weight")
                throw new NotSupportedException("adapters of token_embd.weight are not supported");
            if (a.Shape.Length != 2 || b.Shape.Length != 2)
                throw new InvalidDataException($"LoRA tensors of '{target}' must be matrices ({a}, {b})");
            if (a.Shape[1] != b.Shape[0])
                throw new InvalidDataException(
                    $"LoRA tensors of '{target}' disagree on the rank: lora_a is [{a.Shape[1]}, {a.Shape[0]}], lora_b [{b.Shape[1]}, {b.Shape[0]}] (lora_a may be transposed)");
            var rank = checked((int)a.Shape[1]);
            var nIn = checked((int)a.Shape[0]);
            var nOut = checked((int)b.Shape[1]);
            pairs.Add(new LoraPair(target, rank, nIn, nOut, Floats(file, a), Floats(file, b)));
        }
        return new LoraAdapter(name, arch, alpha, pairs);
    }

    private static float[] Floats(GgufFile file, GgufTensorInfo t)
    {
        if (!GgmlTypeInfo.IsSupported(t.Type))
            throw new NotSupportedException($"LoRA tensor '{t.Name}' has type {t.Type}, which Kiln cannot read");
        var values = new float[checked((int)t.ElementCount)];
        Dequantize.Row(t.Type, file.TensorBytes(t), values);
        return values;
    }

    private static string Quote(string? s) => s is null ? "missing" : $"'{s}'";
}
