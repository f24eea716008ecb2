using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Tests.Gguf;

namespace Kiln.Engine.Tests.Models;

/// <summary>
/// The validator refuses what a replica could not load, naming the key or tensor, and the load path
/// refuses the same files with the same message; valid models pass and load.
/// </summary>
public class ModelValidatorTests
{
    public static TheoryData<string, object, string> Hyperparameters() => new()
    {
        // The classes a tester found imported READY yet failing at every replica load.
        { "context_length", 0u, "llama.context_length" },
        { "context_length", 2147483648u, "llama.context_length" },
        { "context_length", ModelValidator.MaxContextLength + 1u, "llama.context_length" },
        { "context_length", -5, "llama.context_length" },
        { "embedding_length", 0u, "llama.embedding_length" },
        { "embedding_length", 63u, "llama.attention.head_count" },
        { "attention.head_count", 0u, "llama.attention.head_count" },
        { "attention.head_count", 3u, "llama.attention.head_count" },
        { "attention.head_count_kv", 3u, "llama.attention.head_count_kv" },
        { "attention.head_count_kv", 0u, "llama.attention.head_count_kv" },
        { "block_count", 0u, "llama.block_count" },
        { "block_count", 3u, "blk.2.attn_norm.weight" },
        { "feed_forward_length", 47u, "blk.0.ffn_gate.weight" },
        { "rope.dimension_count", 3u, "llama.rope.dimension_count" },
        { "rope.dimension_count", 16u, "llama.rope.dimension_count" },
        { "context_length", "2048", "llama.context_length" },
        { "embedding_length", true, "llama.embedding_length" },
        { "rope.freq_base", "10000", "llama.rope.freq_base" },
        { "rope.freq_base", float.NaN, "llama.rope.freq_base" },
        { "attention.layer_norm_rms_epsilon", 0f, "llama.attention.layer_norm_rms_epsilon" },
    };

    [Theory]
    [MemberData(nameof(Hyperparameters))]
    public void BadHyperparametersAreRefusedByValidationAndLoadAlike(string key, object value, string field)
    {
        var image = TestModels.Llama();
        image.Set($"llama.{key}", value);
        AssertRefused(image.ToBytes(), field);
    }

    [Fact]
    public void NoTensorsIsRefused()
    {
        var image = TestModels.Llama();
        image.TensorCount = 0;
        AssertRefused(image.ToBytes(), "token_embd.weight");
    }

    [SharedTheory]
    [InlineData("context_length", 0u, "llama.context_length")]
    [InlineData("context_length", 2147483648u, "llama.context_length")]
    [InlineData("embedding_length", 0u, "llama.embedding_length")]
    [InlineData("embedding_length", 63u, "llama.attention.head_count")]
    [InlineData("attention.head_count", 0u, "llama.attention.head_count")]
    [InlineData("attention.head_count", 3u, "llama.attention.head_count")]
    public void TheTestersCasesOnTheRealModelAreRefused(string key, object value, string field)
    {
        var image = GgufImage.From(File.ReadAllBytes(SharedFiles.Model("stories260K.gguf")));
        image.Set($"llama.{key}", value);
        AssertRefused(image.ToBytes(), field);
    }

    [SharedFact]
    public void ZeroTensorCountInTheRealModelIsRefused()
    {
        var image = GgufImage.From(File.ReadAllBytes(SharedFiles.Model("stories260K.gguf")));
        image.TensorCount = 0;
        AssertRefused(image.ToBytes(), "token_embd.weight");
    }

    [Fact]
    public void TensorProblemsNameTheTensorAndItsOffset()
    {
        var image = TestModels.Llama();
        image.Find("blk.1.attn_k.weight")!.Dims = [32, 8, 2];
        var e = AssertRefused(image.ToBytes(), "blk.1.attn_k.weight");
        Assert.True(e.Offset > 0, e.Message);
        Assert.Contains($"at offset {e.Offset}", e.Message);

        image = TestModels.Llama();
        image.Tensors.RemoveAll(t => t.Name == "blk.0.ffn_norm.weight");
        AssertRefused(image.ToBytes(), "blk.0.ffn_norm.weight");

        image = TestModels.Llama();
        var q = image.Find("blk.0.attn_q.weight")!;
        q.Type = 9; // Q8_1: stored, but no kernel computes with it
        q.Data = new byte[32 / 32 * 36 * 32];
        AssertRefused(image.ToBytes(), "blk.0.attn_q.weight");
    }

    [Fact]
    public void TokenizerProblemsAreRefused()
    {
        var image = TestModels.Llama();
        image.Remove("tokenizer.ggml.model");
        AssertRefused(image.ToBytes(), "tokenizer.ggml.model");

        image = TestModels.Llama();
        var tokens = (string[])((GgufArray)image.Get("tokenizer.ggml.tokens")!).Values;
        image.Set("tokenizer.ggml.tokens", new GgufArray(GgufValueType.String, tokens[..^1]));
        image.Remove("tokenizer.ggml.scores");
        image.Remove("tokenizer.ggml.token_type");
        var e = AssertRefused(image.ToBytes(), "tokenizer.ggml.tokens");
        Assert.Contains("rows", e.Message);

        image = TestModels.Llama();
        image.Set("tokenizer.ggml.scores", new GgufArray(GgufValueType.Float32, new float[3]));
        AssertRefused(image.ToBytes(), "tokenizer.ggml.model");

        // A WordPiece vocabulary frames every prompt with CLS and SEP, but this one has no SEP.
        image = TestModels.Llama();
        image.Set("tokenizer.ggml.model", "bert");
        Assert.Contains("SEP token", AssertRefused(image.ToBytes(), "tokenizer.ggml.tokens").Message);
    }

    [Fact]
    public void UnsupportedArchitectureIsNamed()
    {
        var image = TestModels.Llama();
        image.Set("general.architecture", "gemma3");
        var e = AssertRefused(image.ToBytes(), "general.architecture");
        Assert.Contains("gemma3", e.Message);
    }

    [Fact]
    public void GeneratedModelsPassAndLoad()
    {
        foreach (var image in (GgufImage[])[TestModels.Llama(), TestModels.Qwen2()])
            AssertLoads(image.ToBytes());
    }

    [SharedTheory]
    [MemberData(nameof(GgufFuzzTests.Models), MemberType = typeof(GgufFuzzTests))]
    public void RealModelsPassAndLoad(string name)
    {
        using var file = GgufFile.Open(SharedFiles.Model(name));
        var v = ModelValidator.Validate(file);
        Assert.Equal("llama", v.Config.Architecture);
        ModelValidationFuzzTests.LoadAndStep(file, v);
    }

    [Fact]
    public void WrongValueTypesAreRefusedWithTheirOffset()
    {
        var image = TestModels.Llama();
        image.Set("llama.rope.freq_base", "fast");
        using var file = GgufFile.Parse(image.ToBytes());
        var e = Assert.Throws<GgufFormatException>(() => file.GetFloat("llama.rope.freq_base", 1f));
        Assert.Equal(file.MetadataOffset("llama.rope.freq_base"), e.Offset);
        Assert.True(e.Offset > 0);
    }

    private static void AssertLoads(byte[] bytes)
    {
        using var file = GgufFile.Parse(bytes);
        ModelValidationFuzzTests.LoadAndStep(file, ModelValidator.Validate(file));
    }

    /// <summary>Validation refuses naming <paramref name="field"/>, and loading the model refuses with the same message.</summary>
    private static ModelValidationException AssertRefused(byte[] bytes, string field)
    {
        using var file = GgufFile.Parse(bytes);
        var e = Assert.Throws<ModelValidationException>(() => ModelValidator.Validate(file));
        Assert.Equal(field, e.Field);
        Assert.Contains(field.Split('.')[^1], e.Message);
        if (!field.StartsWith("tokenizer.", StringComparison.Ordinal))
        {
            var load = Assert.Throws<ModelValidationException>(() => new LlamaModel(file, new ModelOptions { MaxSlots = 1, Threads = 1 }));
            Assert.Equal(e.Message, load.Message);
        }
        return e;
    }
}
