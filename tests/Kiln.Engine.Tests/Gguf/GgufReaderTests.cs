using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Gguf;

public class GgufReaderTests
{
    [SharedFact]
    public void ReadsStories260K()
    {
        using var f = GgufFile.Open(SharedFiles.Model("stories260K.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(64, f.GetInteger("llama.embedding_length", 0));
        Assert.Equal(48, f.Tensors.Count);
        Assert.Equal(512, f.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        var emb = f.FindTensor("token_embd.weight")!;
        Assert.Equal(GgmlType.F32, emb.Type);
        Assert.Equal(new long[] { 64, 512 }, emb.Shape);
        Assert.Equal(64 * 512 * 4, f.TensorBytes(emb).Length);
    }

    [SharedFact]
    public void RejectsVersion1ByName()
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(SharedFiles.Model("tinyllamas-stories-260k-f32.gguf")));
        Assert.Contains("version 1", e.Message);
        Assert.Equal(4, e.Offset);
    }

    [SharedTheory]
    [InlineData("stories260K.gguf")]
    [InlineData("TinyStories-656K-Q8_0.gguf")]
    [InlineData("TinyStories-656K-Q2_K.gguf")]
    [InlineData("synth-15m-q4_0.gguf")]
    [InlineData("synth-15m-q4_k_m.gguf")]
    public void EveryTensorLiesInsideTheFile(string model)
    {
        using var f = GgufFile.Open(SharedFiles.Model(model));
        foreach (var t in f.Tensors)
        {
            Assert.True(f.DataOffset + t.Offset + t.ByteSize <= f.Length);
            Assert.Equal(t.ByteSize, f.TensorBytes(t).Length);
        }
    }

    [Fact]
    public void RejectsBadMagicAndEmptyFiles()
    {
        Assert.Contains("empty", Assert.Throws<GgufFormatException>(() => GgufFile.Parse([])).Message);
        Assert.Contains("magic", Assert.Throws<GgufFormatException>(() => GgufFile.Parse("GGML\u0003\0\0\0"u8.ToArray())).Message);
        var v9 = Assert.Throws<GgufFormatException>(() => GgufFile.Parse([.. "GGUF"u8, 9, 0, 0, 0]));
        Assert.Contains("version 9", v9.Message);
    }

    [Fact]
    public void WriterRoundTripsMetadataAndTensors()
    {
        var w = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("a.u32", 7u).Add("a.i64", -5L).Add("a.f32", 1.5f).Add("a.bool", true)
            .Add("a.strings", new[] { "x", "", "ünï" })
            .Add("a.empty", Array.Empty<string>())
            .Add("a.floats", new[] { 1f, 2f });
        var data = Enumerable.Range(0, 6).Select(i => (float)i).ToArray();
        w.AddTensor("t0", data, 3, 2);
        w.AddTensor("t1", GgmlType.Q8_0, [32], new byte[34]);
        var image = WriteToArray(w);

        using var f = GgufFile.Parse(image);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(7, f.GetInteger("a.u32", 0));
        Assert.Equal(-5, f.GetInteger("a.i64", 0));
        Assert.Equal(1.5f, f.GetFloat("a.f32", 0));
        Assert.True(f.GetBool("a.bool", false));
        Assert.Equal(["x", "", "ünï"], f.GetArray<string>("a.strings")!);
        Assert.Empty(f.GetArray<string>("a.empty")!);
        Assert.Equal([1f, 2f], f.GetArray<float>("a.floats")!);
        var t0 = f.FindTensor("t0")!;
        Assert.Equal(new long[] { 3, 2 }, t0.Shape);
        Assert.Equal(data, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f.TensorBytes(t0)).ToArray());
        Assert.Equal(0, f.FindTensor("t1")!.Offset % f.Alignment);
    }

    [Fact]
    public void NamesTheProblemAndOffset()
    {
        var image = WriteToArray(new GgufWriter().Add("k", "v").AddTensor("t", new float[4], 4));
        // Tensor type field: after magic, version, counts, the kv, the name, n_dims and one dim.
        var typeOffset = 4 + 4 + 8 + 8 + (8 + 1 + 4 + 8 + 1) + (8 + 1) + 4 + 8;
        BitConverter.TryWriteBytes(image.AsSpan(typeOffset), 77u);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Parse(image));
        Assert.Contains("unknown tensor type 77", e.Message);
        Assert.Equal(typeOffset, e.Offset);

        var truncated = WriteToArray(new GgufWriter().AddTensor("t", new float[4], 4))[..^4];
        Assert.Contains("outside the file", Assert.Throws<GgufFormatException>(() => GgufFile.Parse(truncated)).Message);
    }

    [Fact]
    public void HugeCountsFailWithoutAllocating()
    {
        var image = WriteToArray(new GgufWriter().Add("k", new[] { 1f, 2f }));
        // Array count of the only kv: magic, version, counts, key, type, element type.
        var countOffset = 4 + 4 + 8 + 8 + (8 + 1) + 4 + 4;
        BitConverter.TryWriteBytes(image.AsSpan(countOffset), ulong.MaxValue / 2);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Parse(image));
        Assert.Contains("larger than the rest of the file", e.Message);
    }

    internal static byte[] WriteToArray(GgufWriter w)
    {
        using var ms = new MemoryStream();
        w.Write(ms);
        return ms.ToArray();
    }
}
