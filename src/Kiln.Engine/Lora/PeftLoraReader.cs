using System.Text.Json;
using Kiln.Engine.Models;

namespace Kiln.Engine.Lora;

/// <summary>
/// Reads a Hugging Face PEFT LoRA folder (adapter_config.json + adapter_model.safetensors) into GGUF
/// orientation. lora_A [r, in] and lora_B [out, r] keep their layout; for llama the rows of q/k
/// lora_B are permuted, because llama GGUFs store q/k with RoPE pairs adjacent where Hugging Face
/// rotates halves (the same permutation the base weights got when converted).
/// </summary>
internal static class PeftLoraReader
{
    private const string Prefix = "base_model.model.model.layers.";

    private static readonly Dictionary<string, LoraModule> Modules = new(StringComparer.Ordinal)
    {
        ["self_attn.q_proj"] = LoraModule.AttnQ,
        ["self_attn.k_proj"] = LoraModule.AttnK,
        ["self_attn.v_proj"] = LoraModule.AttnV,
        ["self_attn.o_proj"] = LoraModule.AttnOutput,
        ["mlp.gate_proj"] = LoraModule.FfnGate,
        ["mlp.up_proj"] = LoraModule.FfnUp,
        ["mlp.down_proj"] = LoraModule.FfnDown,
    };

    public static LoraAdapter Read(string folder, ModelConfig? baseModel)
    {
        var configPath = Path.Combine(folder, "adapter_config.json");
        var weightsPath = Path.Combine(folder, "adapter_model.safetensors");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"PEFT adapter folder has no adapter_config.json: {folder}", configPath);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"PEFT adapter folder has no adapter_model.safetensors: {folder}", weightsPath);
        var alpha = ReadConfig(configPath);
        var tensors = SafeTensors.Open(weightsPath);

        var halves = new SortedDictionary<(int Layer, LoraModule Module), (SafeTensorInfo? A, SafeTensorInfo? B)>();
        foreach (var t in tensors.Tensors)
        {
            var (layer, module, isA) = ParseName(t.Name);
            var pair = halves.GetValueOrDefault((layer, module));
            if ((isA ? pair.A : pair.B) is not null) throw new InvalidDataException($"tensor '{t.Name}' appears twice");
            halves[(layer, module)] = isA ? pair with { A = t } : pair with { B = t };
        }

        var pairs = new List<LoraPair>(halves.Count);
        foreach (var ((layer, module), (a, b)) in halves)
        {
            var target = LoraModules.TensorName(layer, module);
            if (a is null || b is null)
                throw new InvalidDataException($"the update of '{target}' lacks its {(a is null ? "lora_A" : "lora_B")} tensor");
            if (a.Shape.Length != 2 || b.Shape.Length != 2 || a.Shape[0] != b.Shape[1])
                throw new InvalidDataException(
                    $"the update of '{target}' has lora_A [{string.Join(", ", a.Shape)}] and lora_B [{string.Join(", ", b.Shape)}]; expected [r, in] and [out, r]");
            int rank = checked((int)a.Shape[0]), nIn = checked((int)a.Shape[1]), nOut = checked((int)b.Shape[0]);
            var bValues = tensors.ReadFloats(b);
            if (module is LoraModule.AttnQ or LoraModule.AttnK && NeedsPermutation(baseModel, target))
                bValues = PermuteRows(bValues, nOut, rank, module == LoraModule.AttnQ ? baseModel!.HeadCount : baseModel!.HeadCountKv, target);
            pairs.Add(new LoraPair(target, rank, nIn, nOut, tensors.ReadFloats(a), bValues));
        }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        return new LoraAdapter(name, baseModel?.Architecture, alpha, pairs);
    }

    private static float ReadConfig(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"adapter_config.json is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var c = doc.RootElement;
            if (c.ValueKind != JsonValueKind.Object) throw new InvalidDataException("adapter_config.json is not a JSON object");
            if (c.TryGetProperty("peft_type", out var type) && type.GetString() is { } t && t != "LORA")
                throw new NotSupportedException($"PEFT type '{t}' is not supported; only LORA is");
            // These change the update's math; refusing beats silently computing something else.
            foreach (var flag in (string[])["use_dora", "use_rslora", "fan_in_fan_out"])
                if (c.TryGetProperty(flag, out var v) && v.ValueKind == JsonValueKind.True)
                    throw new NotSupportedException($"PEFT adapters with {flag} = true are not supported");
            if (c.TryGetProperty("alpha_pattern", out var ap) && ap.ValueKind == JsonValueKind.Object && ap.EnumerateObject().Any())
                throw new NotSupportedException("PEFT adapters with a per-module alpha_pattern are not supported");
            if (!c.TryGetProperty("lora_alpha", out var alpha)) return 0f;
            if (alpha.ValueKind != JsonValueKind.Number) throw new InvalidDataException("adapter_config.json: lora_alpha must be a number");
            return alpha.GetSingle();
        }
    }

    private static (int Layer, LoraModule Module, bool IsA) ParseName(string name)
    {
        // base_model.model.model.layers.{i}.{self_attn|mlp}.{x}_proj.lora_{A|B}.weight
        bool isA = name.EndsWith(".lora_A.weight", StringComparison.Ordinal);
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !(isA || name.EndsWith(".lora_B.weight", StringComparison.Ordinal)))
            throw new InvalidDataException($"tensor '{name}' is not a LoRA update of a decoder layer projection");
        var rest = name[Prefix.Length..^".lora_A.weight".Length];
        var dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var layer)
            || !Modules.TryGetValue(rest[(dot + 1)..], out var module))
            throw new InvalidDataException($"tensor '{name}' targets a module Kiln does not adapt");
        return (layer, module, isA);
    }

    private static bool NeedsPermutation(ModelConfig? baseModel, string target)
    {
        if (baseModel is null)
            throw new InvalidOperationException(
                $"the PEFT update of '{target}' must be re-ordered for the base model's RoPE layout; load the adapter with the base model's config");
        return baseModel.RopeStyle == RopeStyle.AdjacentPairs;
    }

    /// <summary>out[h*hd + 2i + j] = in[h*hd + j*hd/2 + i]: rotate-half order to adjacent pairs, per head.</summary>
    private static float[] PermuteRows(float[] b, int rows, int rank, int heads, string target)
    {
        if (heads <= 0 || rows % heads != 0 || rows / heads % 2 != 0)
            throw new LoraMismatchException($"the update of '{target}' has {rows} rows, which do not split into {heads} heads of even size");
        var hd = rows / heads;
        var result = new float[b.Length];
        for (var h = 0; h < heads; h++)
            for (var i = 0; i < hd / 2; i++)
                for (var j = 0; j < 2; j++)
                    b.AsSpan((h * hd + j * hd / 2 + i) * rank, rank).CopyTo(result.AsSpan((h * hd + 2 * i + j) * rank, rank));
        return result;
    }
}
