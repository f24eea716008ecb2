using System.Runtime.InteropServices;
using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Models;

/// <summary>The weights of one transformer block.</summary>
public sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }
    public required WeightMatrix Q { get; init; }
    public required WeightMatrix K { get; init; }
    public required WeightMatrix V { get; init; }
    public required WeightMatrix O { get; init; }
    public float[]? QBias { get; init; }
    public float[]? KBias { get; init; }
    public float[]? VBias { get; init; }
    public required float[] FfnNorm { get; init; }
    public required WeightMatrix Gate { get; init; }
    public required WeightMatrix Up { get; init; }
    public required WeightMatrix Down { get; init; }

    public WeightMatrix Matrix(Lora.LoraModule module) => module switch
    {
        Lora.LoraModule.AttnQ => Q,
        Lora.LoraModule.AttnK => K,
        Lora.LoraModule.AttnV => V,
        Lora.LoraModule.AttnOutput => O,
        Lora.LoraModule.FfnGate => Gate,
        Lora.LoraModule.FfnUp => Up,
        Lora.LoraModule.FfnDown => Down,
        _ => throw new ArgumentOutOfRangeException(nameof(module)),
    };
}

/// <summary>All weights of a llama-family model, checked against the config's shapes.</summary>
public sealed class LlamaWeights : IDisposable
{
    public required WeightMatrix TokenEmbedding { get; init; }
    public required LayerWeights[] Layers { get; init; }
    public required float[] OutputNorm { get; init; }
    /// <summary>The output projection; the token embedding itself when the model ties them.</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>Per-frequency RoPE divisors (Llama 3.1 style scaling), when the file has them.</summary>
    public float[]? RopeFreqFactors { get; init; }
    public required int VocabSize { get; init; }

    /// <summary>Frees the matrices' repacked copies.</summary>
    public void Dispose()
    {
        TokenEmbedding.Dispose();
        Output.Dispose();
        foreach (var layer in Layers)
            foreach (var m in new[] { layer.Q, layer.K, layer.V, layer.O, layer.Gate, layer.Up, layer.Down })
                m.Dispose();
    }

    /// <summary>The per-layer projection called <paramref name="name"/> (e.g. <c>blk.0.attn_q.weight</c>), or null.</summary>
    public WeightMatrix? FindMatrix(string name)
    {
        if (!Lora.LoraModules.TryParse(name, out var layer, out var module) || layer >= Layers.Length) return null;
        return Layers[layer].Matrix(module);
    }

    /// <summary>
    /// Builds the weights after <see cref="ModelValidator.Tensors"/> has checked every tensor this reads,
    /// so nothing is allocated or packed for a file that cannot load.
    /// </summary>
    public static LlamaWeights Load(GgufFile file, ModelConfig c)
    {
        var vocab = ModelValidator.Tensors(file, c);
        GgufTensorInfo Tensor(string name) => file.FindTensor(name)!;
        WeightMatrix Matrix(string name) => new(file, Tensor(name));

        float[]? Vector(string name)
        {
            if (file.FindTensor(name) is not { } t) return null;
            var v = new float[t.ElementCount];
            if (t.Type == GgmlType.F32) MemoryMarshal.Cast<byte, float>(file.TensorBytes(t)).CopyTo(v);
            else Dequantize.Row(t.Type, file.TensorBytes(t), v);
            return v;
        }

        // Only a tied embedding feeds a matmul and is worth the kernels' packed copy.
        var tied = file.FindTensor("output.weight") is null;
        var embedding = new WeightMatrix(file, Tensor("token_embd.weight"), packForMatMul: tied);

        var layers = new LayerWeights[c.BlockCount];
        for (var i = 0; i < layers.Length; i++)
        {
            var p = $"blk.{i}.";
            layers[i] = new LayerWeights
            {
                AttnNorm = Vector(p + "attn_norm.weight")!,
                Q = Matrix(p + "attn_q.weight"),
                K = Matrix(p + "attn_k.weight"),
                V = Matrix(p + "attn_v.weight"),
                O = Matrix(p + "attn_output.weight"),
                QBias = Vector(p + "attn_q.bias"),
                KBias = Vector(p + "attn_k.bias"),
                VBias = Vector(p + "attn_v.bias"),
                FfnNorm = Vector(p + "ffn_norm.weight")!,
                Gate = Matrix(p + "ffn_gate.weight"),
                Up = Matrix(p + "ffn_up.weight"),
                Down = Matrix(p + "ffn_down.weight"),
            };
        }

        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            Layers = layers,
            OutputNorm = Vector("output_norm.weight")!,
            Output = tied ? embedding : Matrix("output.weight"),
            RopeFreqFactors = Vector("rope_freqs.weight"),
            VocabSize = vocab,
        };
    }
}
