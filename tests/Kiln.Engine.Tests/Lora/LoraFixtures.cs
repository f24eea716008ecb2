using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Quantization;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Lora;

/// <summary>Paths and loaders for the shared LoRA fixtures.</summary>
internal static class LoraFixtures
{
    private static readonly Lock DequantLock = new();

    public static string Path(string file) => SharedFiles.GoldenFile("lora", file);

    /// <summary>The base model of a golden; Q8_0 bases are dequantized exactly to F32 once when the golden says so.</summary>
    public static string BaseModelPath(LoraGolden golden)
    {
        var path = SharedFiles.Model(golden.BaseModel);
        if (!golden.DequantizedBase) return path;
        var f32 = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kiln-lora-{golden.BaseModel}.f32.gguf");
        lock (DequantLock)
            if (!File.Exists(f32)) Quantizer.Run(path, f32, GgmlType.F32);
        return f32;
    }

    public static LlamaModel OpenModel(string path, int slots = 1) =>
        LlamaModel.Load(path, new ModelOptions { MaxSlots = slots, ContextLength = 256, KvCacheType = KvCacheType.F32, Threads = 2 });

    /// <summary>The adapter of a golden file entry, as GGUF or from its PEFT folder.</summary>
    public static LoraAdapter LoadAdapter(string ggufFile, bool peft, ModelConfig config) =>
        LoraAdapter.Load(Path(peft ? ggufFile.Replace(".gguf", "-peft") : ggufFile), config);

    /// <summary>Registers a golden's adapters and returns the set to run them with (null for a base golden).</summary>
    public static LoraSet? Register(LlamaModel model, LoraGolden golden, bool peft)
    {
        if (golden.Adapters.Count == 0) return null;
        var entries = golden.Adapters.Select(a => new LoraSetEntry(model.RegisterAdapter(LoadAdapter(a.File, peft, model.Config)), a.Scale));
        return new LoraSet(entries.ToArray());
    }
}
