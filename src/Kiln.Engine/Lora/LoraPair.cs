namespace Kiln.Engine.Lora;

/// <summary>
/// One low-rank update ΔW = B·A of the base weight <see cref="Target"/> (n_out × n_in), in GGUF
/// orientation: <see cref="A"/> is row-major [rank][n_in], <see cref="B"/> row-major [n_out][rank].
/// </summary>
public sealed class LoraPair
{
    public LoraPair(string target, int rank, int inFeatures, int outFeatures, float[] a, float[] b)
    {
        if (rank <= 0 || inFeatures <= 0 || outFeatures <= 0)
            throw new InvalidDataException($"LoRA tensors for '{target}' have an empty dimension");
        if (a.Length != (long)rank * inFeatures || b.Length != (long)outFeatures * rank)
            throw new InvalidDataException($"LoRA tensors for '{target}' do not hold rank × features values");
        Target = target;
        Rank = rank;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        A = a;
        B = b;
    }

    public string Target { get; }
    public int Rank { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }
    public float[] A { get; }
    public float[] B { get; }

    /// <summary>alpha / rank as llama.cpp applies it; a zero alpha means no rescaling.</summary>
    public float ScaleFactor(float alpha) => alpha != 0 ? alpha / Rank : 1f;

    public string ShapeText => $"lora_a [{Rank}, {InFeatures}], lora_b [{OutFeatures}, {Rank}]";
}
