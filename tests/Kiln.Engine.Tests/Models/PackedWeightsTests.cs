using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Quantization;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Models;

/// <summary>
/// Q4_0 matrices are repacked at load and, for a mapped file, their pages handed back to the OS. The raw
/// rows must stay readable either way: a tied Q4_0 embedding is looked up from them every token.
/// </summary>
public sealed class PackedWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-packed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TiedQ4_0ModelGivesTheSameLogitsMappedAndInMemory()
    {
        var tiny = TinyModel.Random("llama", tied: true, seed: 11, dim: 64, ffn: 64, vocab: 1024); // the embedding spans pages
        var f32 = Path.Combine(_dir, "tiny-f32.gguf");
        var q4 = Path.Combine(_dir, "tiny-q4_0.gguf");
        File.WriteAllBytes(f32, tiny.ToGguf());
        Quantizer.Run(f32, q4, GgmlType.Q4_0);

        var options = new ModelOptions { Threads = 2 };
        using var mapped = LlamaModel.Load(q4, options);
        Assert.Equal(GgmlType.Q4_0, mapped.File.FindTensor("token_embd.weight")!.Type);
        using var inMemory = new LlamaModel(GgufFile.Parse(File.ReadAllBytes(q4)), options, ownsFile: true);
        int[] tokens = [1, 500, 900, 33, 1000];
        var a = Run(mapped, tokens);
        var b = Run(inMemory, tokens);
        var again = Run(inMemory, tokens);
        Assert.Equal(a, b);
        Assert.Equal(b, again);
        Assert.Contains(a, x => x != 0);
    }

    private static float[] Run(LlamaModel model, int[] tokens)
    {
        var batch = new Batch();
        for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], 0, i, true);
        return model.Forward(batch).ToArray();
    }
}
