namespace Kiln.Engine.Lora;

/// <summary>The per-layer projections an adapter may target, in forward-pass order.</summary>
public enum LoraModule
{
    AttnQ,
    AttnK,
    AttnV,
    AttnOutput,
    FfnGate,
    FfnUp,
    FfnDown,
}

/// <summary>Maps Kiln (GGUF) tensor names to a layer and module.</summary>
public static class LoraModules
{
    public const int Count = 7;

    private static readonly string[] GgufNames = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];

    public static string GgufName(LoraModule m) => GgufNames[(int)m];

    /// <summary>The weight name, e.g. <c>blk.3.attn_q.weight</c>.</summary>
    public static string TensorName(int layer, LoraModule m) => $"blk.{layer}.{GgufName(m)}.weight";

    /// <summary>Parses <c>blk.N.&lt;module&gt;.weight</c>; false for anything else (embeddings, output, norms).</summary>
    public static bool TryParse(string tensorName, out int layer, out LoraModule module)
    {
        layer = -1;
        module = default;
        var parts = tensorName.Split('.');
        if (parts.Length != 4 || parts[0] != "blk" || parts[3] != "weight") return false;
        if (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out layer))
            return false;
        var i = Array.IndexOf(GgufNames, parts[2]);
        if (i < 0) return false;
        module = (LoraModule)i;
        return true;
    }
}
