using System.Security.Cryptography;
using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Quantization;
using Kiln.Engine.Tensors;
using Kiln.Engine.Tests.Models;

namespace Kiln.Engine.Tests.Quantization;

public sealed class QuantizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-quant-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedTheory]
    [InlineData("q8_0", 0.03)]
    [InlineData("q4_0", 0.3)]
    [InlineData("q5_1", 0.15)]
    [InlineData("iq4_nl", 0.25)]
    public void QuantizedStories260KStaysCloseToF32(string typeName, double maxRelativeError)
    {
        var type = QuantTypes.Parse(typeName)!.Value;
        var output = Path.Combine(_dir, $"s260-{typeName}.gguf");
        var result = Quantizer.Run(SharedFiles.Model("stories260K.gguf"), output, type);
        Assert.True(result.Quantized > 0);

        using (var f = GgufFile.Open(output))
        {
            Assert.Equal(type, f.FindTensor("blk.0.attn_q.weight")!.Type);
            // 172-wide rows fit no 32-block: they stay F32, as do the norms.
            Assert.Equal(GgmlType.F32, f.FindTensor("blk.0.ffn_down.weight")!.Type);
            Assert.Equal(GgmlType.F32, f.FindTensor("blk.0.attn_norm.weight")!.Type);
            Assert.Equal(QuantTypes.FileType(type), (uint)f.GetInteger("general.file_type", -1));
            Assert.Equal(512, f.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        }

        int[] tokens = [1, 403, 407, 261, 378, 432, 383, 286];
        var reference = Logits(SharedFiles.Model("stories260K.gguf"), tokens);
        var quantized = Logits(output, tokens);
        // Error relative to the spread of the logits: small for 8 bits, larger for 4.
        var mean = reference.Average();
        var spread = Math.Sqrt(reference.Average(a => (a - mean) * (a - mean)));
        var rmse = Math.Sqrt(reference.Zip(quantized, (a, b) => (double)(a - b) * (a - b)).Average());
        Assert.True(rmse / spread < maxRelativeError, $"{typeName}: relative RMS error {rmse / spread}");
        Assert.True(rmse > 0, "quantization should change something");
    }

    [Fact]
    public void KQuantsFallBackForNarrowRows()
    {
        Assert.Equal(GgmlType.Q4_K, QuantTypes.ForRow(GgmlType.Q4_K, 512));
        Assert.Equal(GgmlType.Q5_0, QuantTypes.ForRow(GgmlType.Q4_K, 288));
        Assert.Equal(GgmlType.Q8_0, QuantTypes.ForRow(GgmlType.Q6_K, 288));
        Assert.Equal(GgmlType.F32, QuantTypes.ForRow(GgmlType.Q4_K, 172));
        Assert.Null(QuantTypes.Parse("q3_k"));
    }

    [SharedFact]
    public void SyntheticModelIsSeededAndRunnable()
    {
        var vocab = SharedFiles.GoldenFile("vocab", "ggml-vocab-llama-spm.gguf");
        var a = Path.Combine(_dir, "a.gguf");
        var b = Path.Combine(_dir, "b.gguf");
        SyntheticModel.Write(ModelShape.Presets["stories15m"], vocab, GgmlType.Q4_0, a, seed: 9);
        SyntheticModel.Write(ModelShape.Presets["stories15m"], vocab, GgmlType.Q4_0, b, seed: 9);
        Assert.Equal(Hash(a), Hash(b));

        using var model = LlamaModel.Load(a, new ModelOptions { Threads = 2 });
        Assert.Equal(32000, model.Info.VocabSize);
        Assert.Equal(256, model.Info.ContextLength);
        Assert.Equal(288, model.Config.EmbeddingLength);
        Assert.Equal(6, model.Config.BlockCount);
        Assert.Equal(GgmlType.Q4_0, model.File.FindTensor("blk.0.ffn_down.weight")!.Type);
        Assert.NotNull(model.File.FindTensor("output.weight"));

        var batch = new Batch();
        batch.Add(1, 0, 0, true);
        var logits = model.Forward(batch);
        // N(0, 0.02) weights give near-uniform logits, as the shared synthetic models do.
        Assert.InRange(GoldenLogitsTests.LogSumExp(logits), 10.3, 10.6);
    }

    [SharedFact]
    public void An_output_norm_spreads_the_synthetic_logits_by_that_factor()
    {
        var vocab = SharedFiles.GoldenFile("vocab", "ggml-vocab-llama-spm.gguf");
        var shape = new ModelShape("tiny", 64, 2, 4, 4, 128, 64);
        var flat = Path.Combine(_dir, "flat.gguf");
        var peaked = Path.Combine(_dir, "peaked.gguf");
        SyntheticModel.Write(shape, vocab, GgmlType.F32, flat, seed: 3);
        SyntheticModel.Write(shape, vocab, GgmlType.F32, peaked, seed: 3, outputNorm: 15f);
        // The norm's weight scales the final hidden state, so every logit exactly (up to float rounding).
        var a = Logits(flat, [1, 5, 9]);
        var b = Logits(peaked, [1, 5, 9]);
        for (var i = 0; i < a.Length; i++) Assert.Equal(15f * a[i], b[i], 1e-4f + 1e-5f * Math.Abs(b[i]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticModel.Write(shape, vocab, GgmlType.F32, Path.Combine(_dir, "bad.gguf"), outputNorm: 0f));
    }

    private static float[] Logits(string path, int[] tokens)
    {
        using var m = LlamaModel.Load(path, new ModelOptions { Threads = 2 });
        var batch = new Batch();
        for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], 0, i, true);
        return m.Forward(batch).ToArray();
    }

    private static string Hash(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(s));
    }
}
