using System.Runtime.InteropServices;
using System.Text;
using Kiln.Engine.Gguf;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Lora;

/// <summary>Reading both adapter forms, the base-model checks, merging, and malformed input.</summary>
public class LoraLoadingTests
{
    private static LlamaModel Stories() => LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"));

    [SharedTheory]
    [InlineData("stories260K-lora-qv-r4")]
    [InlineData("stories260K-lora-all-r8")]
    public void PeftFolderConvertsBitIdenticallyToGguf(string name)
    {
        using var model = Stories();
        var gguf = LoraAdapter.Load(LoraFixtures.Path(name + ".gguf"));
        var peft = LoraAdapter.Load(LoraFixtures.Path(name + "-peft"), model.Config);
        Assert.Equal(gguf.Alpha, peft.Alpha);
        Assert.Equal(gguf.Pairs.Select(p => p.Target).Order(), peft.Pairs.Select(p => p.Target).Order());
        foreach (var g in gguf.Pairs)
        {
            var p = peft.Pairs.Single(x => x.Target == g.Target);
            Assert.Equal((g.Rank, g.InFeatures, g.OutFeatures), (p.Rank, p.InFeatures, p.OutFeatures));
            Assert.True(g.A.AsSpan().SequenceEqual(p.A), $"{g.Target} lora_a differs");
            Assert.True(g.B.AsSpan().SequenceEqual(p.B), $"{g.Target} lora_b differs");
        }
    }

    [SharedFact]
    public void GgufAdapterReportsItsMetadata()
    {
        var a = LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf"));
        Assert.Equal("llama", a.Architecture);
        Assert.Equal(8f, a.Alpha);
        Assert.Equal(10, a.Pairs.Count);
        Assert.All(a.Pairs, p => Assert.Equal(2f, p.ScaleFactor(a.Alpha)));
        Assert.Equal(1f, a.Pairs[0].ScaleFactor(0f)); // alpha 0 means the user scale alone
    }

    [SharedFact]
    public void PeftWithQueryUpdatesNeedsTheBaseConfig()
    {
        var e = Assert.Throws<InvalidOperationException>(() => LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4-peft")));
        Assert.Contains("blk.0.attn_q.weight", e.Message);
    }

    [SharedFact]
    public void MismatchedAdapterIsRefusedNamingTensorAndShapes()
    {
        using var model = Stories();
        var adapter = LoraAdapter.Load(LoraFixtures.Path("mismatch-lora.gguf"));
        var e = Assert.Throws<LoraMismatchException>(() => model.RegisterAdapter(adapter));
        Assert.Contains("'blk.0.attn_q.weight'", e.Message);
        Assert.Contains("[128, 128]", e.Message); // what the adapter updates
        Assert.Contains("[64, 64]", e.Message);   // what the base has
        // Nothing was registered: a base run still matches.
        Assert.Throws<ArgumentException>(() => Run(model, LoraSet.Single(0)));
    }

    [SharedFact]
    public void AdaptersOnlyFitTheirOwnBase()
    {
        using var stories = Stories();
        using var tiny = LoraFixtures.OpenModel(SharedFiles.Model("TinyStories-656K-Q8_0.gguf"));
        Assert.Throws<LoraMismatchException>(() => stories.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("tinystories656k-lora-qv-r4.gguf"))));
        Assert.Throws<LoraMismatchException>(() => tiny.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf"))));
        Assert.Throws<LoraMismatchException>(() => tiny.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-all-r8.gguf"))));
        // Shapes decide, not names: the "mismatched" adapter fits the dim-128 model.
        Assert.Equal(0, tiny.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("mismatch-lora.gguf"))));
    }

    [SharedFact]
    public void MergedWeightsReproduceTheOracleFile()
    {
        using var model = Stories();
        using var oracle = GgufFile.Open(LoraFixtures.Path("stories260K-merged-qv-r4.gguf"));
        var adapter = LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf"));
        var weights = LlamaWeights.Load(model.File, model.Config);
        foreach (var p in adapter.Pairs)
        {
            var merged = LoraMerge.Merge(weights.FindMatrix(p.Target)!, [(adapter, 1f)]);
            var expected = MemoryMarshal.Cast<byte, float>(oracle.TensorBytes(oracle.FindTensor(p.Target)!));
            for (var i = 0; i < merged.Length; i++)
                Assert.True(Math.Abs(BitConverter.SingleToInt32Bits(merged[i]) - BitConverter.SingleToInt32Bits(expected[i])) <= 1,
                    $"{p.Target}[{i}]: {merged[i]} vs {expected[i]}");
        }
    }

    [SharedFact]
    public void MergedModelAgreesWithTheAdapterRun()
    {
        var golden = LoraGolden.Load("stories260K-lora-qv-r4.json");
        var merged = Path.Combine(Path.GetTempPath(), $"kiln-merged-{Guid.NewGuid():N}.gguf");
        try
        {
            LoraMerge.Write(SharedFiles.Model("stories260K.gguf"), merged, [(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf")), 1f)]);
            foreach (var path in new[] { merged, LoraFixtures.Path("stories260K-merged-qv-r4.gguf") })
            {
                using var model = LoraFixtures.OpenModel(path);
                foreach (var (c, _) in golden.Cases)
                {
                    var tokens = c.PromptTokens.Concat(c.GreedyTokens).ToArray();
                    var batch = new Batch(tokens.Length);
                    for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], 0, i, true);
                    LoraChecks.CompareRows(golden, c, model.Forward(batch).ToArray(), model.Info.VocabSize, path);
                    model.Truncate(0, 0);
                    Assert.Equal(c.GreedyTokens, LoraChecks.Greedy(model, c.PromptTokens, c.GreedyTokens.Length, null));
                    model.Truncate(0, 0);
                }
            }
        }
        finally
        {
            File.Delete(merged);
        }
    }

    [Fact]
    public void MalformedFilesFailWithClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("kiln-lora-");
        try
        {
            var path = Path.Combine(dir.FullName, "x.gguf");
            File.WriteAllBytes(path, [1, 2, 3]);
            Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(path));

            new GgufWriter().Add("general.architecture", "llama").Add("general.type", "model").Write(path);
            Assert.Contains("general.type", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(path)).Message);

            Adapter(path, ("blk.0.attn_q.weight.lora_a", [8, 2]));
            Assert.Contains("lacks its lora_b", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(path)).Message);

            Adapter(path, ("blk.0.attn_q.weight.lora_a", [8, 2]), ("blk.0.attn_q.weight.lora_b", [4, 8]));
            Assert.Contains("rank", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(path)).Message);

            Adapter(path, ("blk.0.attn_q.weight.extra", [8, 2]));
            Assert.Contains("neither", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(path)).Message);

            Assert.Throws<FileNotFoundException>(() => LoraAdapter.Load(Path.Combine(dir.FullName, "missing.gguf")));

            var peft = dir.CreateSubdirectory("peft").FullName;
            File.WriteAllText(Path.Combine(peft, "adapter_config.json"), """{"peft_type":"LORA","r":2,"lora_alpha":4}""");
            var st = Path.Combine(peft, "adapter_model.safetensors");
            File.WriteAllBytes(st, [0xff, 0xff, 0, 0, 0, 0, 0, 0, 1]);
            Assert.Contains("header length", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(peft)).Message);
            File.WriteAllBytes(st, SafeTensorsImage("""{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,64]}}""", 16));
            Assert.Contains("outside", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(peft)).Message);
            File.WriteAllBytes(st, SafeTensorsImage("""{"model.embed_tokens.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", 16));
            Assert.Contains("not a LoRA update", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(peft)).Message);
            File.WriteAllBytes(st, SafeTensorsImage("{not json", 0));
            Assert.Contains("JSON", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(peft)).Message);
            File.WriteAllText(Path.Combine(peft, "adapter_config.json"), """{"peft_type":"LORA","r":2,"lora_alpha":4,"use_dora":true}""");
            Assert.Throws<NotSupportedException>(() => LoraAdapter.Load(peft));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void Adapter(string path, params (string Name, long[] Shape)[] tensors)
    {
        var w = new GgufWriter().Add("general.architecture", "llama").Add("general.type", "adapter")
            .Add("adapter.type", "lora").Add("adapter.lora.alpha", 4f);
        foreach (var (name, shape) in tensors) w.AddTensor(name, new float[shape[0] * shape[1]], shape);
        w.Write(path);
    }

    private static byte[] SafeTensorsImage(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var image = new byte[8 + h.Length + dataBytes];
        BitConverter.TryWriteBytes(image.AsSpan(0, 8), (ulong)h.Length);
        h.CopyTo(image, 8);
        return image;
    }

    private static void Run(LlamaModel model, LoraSet set)
    {
        var b = new Batch();
        b.Add(1, 0, 0, true, set);
        model.Forward(b);
    }
}
