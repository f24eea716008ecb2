using Kiln.Engine.Gguf;
using Kiln.Engine.Models;

namespace Kiln.Engine.Tests.Models;

public class ForwardPassTests
{
    [Theory]
    [InlineData("llama", false, 1f)]
    [InlineData("llama", true, 1f)]
    [InlineData("llama", false, 4f)]
    [InlineData("qwen2", true, 1f)]
    [InlineData("qwen2", false, 2f)]
    public void MatchesPlainReferenceForward(string arch, bool tied, float ropeScale)
    {
        var tiny = TinyModel.Random(arch, tied, seed: 7);
        tiny.RopeScaleFactor = ropeScale;
        using var file = GgufFile.Parse(tiny.ToGguf());
        using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 1, Threads = 2 });
        int[] tokens = [1, 5, 9, 33, 2, 17, 17, 39, 0, 12];
        var expected = ReferenceForward.Logits(tiny, tokens);

        var batch = new Batch();
        for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], 0, i, true);
        var logits = model.Forward(batch).ToArray();
        for (var i = 0; i < tokens.Length; i++)
            for (var j = 0; j < tiny.Vocab; j++)
                Assert.True(Math.Abs(logits[i * tiny.Vocab + j] - expected[i][j]) < 2e-3,
                    $"{arch} position {i} token {j}: {logits[i * tiny.Vocab + j]} vs {expected[i][j]}");
    }

    [Fact]
    public void SlotsInOneBatchAreIndependent()
    {
        var tiny = TinyModel.Random("llama", false, seed: 3);
        using var file = GgufFile.Parse(tiny.ToGguf());
        using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 3, Threads = 2 });
        int[] a = [1, 4, 8, 15, 16], b = [1, 23, 38];
        var ra = ReferenceForward.Logits(tiny, a);
        var rb = ReferenceForward.Logits(tiny, b);

        // Prefill b in slot 2 while a decodes token by token in slot 0, mixed in the same steps.
        var batch = new Batch();
        batch.Add(a[0], 0, 0, true);
        for (var i = 0; i < b.Length; i++) batch.Add(b[i], 2, i, i == b.Length - 1);
        var first = model.Forward(batch).ToArray();
        AssertClose(ra[0], first.AsSpan(0, tiny.Vocab));
        AssertClose(rb[^1], first.AsSpan(tiny.Vocab, tiny.Vocab));
        for (var i = 1; i < a.Length; i++)
        {
            batch.Clear();
            batch.Add(a[i], 0, i, true);
            AssertClose(ra[i], model.Forward(batch));
        }
    }

    [Fact]
    public void RejectsOutOfRangeInput()
    {
        var tiny = TinyModel.Random("llama", false, seed: 1);
        using var file = GgufFile.Parse(tiny.ToGguf());
        using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 1, ContextLength = 8, Threads = 1 });
        var batch = new Batch();
        batch.Add(tiny.Vocab, 0, 0, true);
        Assert.Contains("vocabulary", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        batch.Clear();
        batch.Add(1, 0, 8, true);
        Assert.Contains("context", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        batch.Clear();
        batch.Add(1, 1, 0, true);
        Assert.Contains("slot", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
    }

    [Fact]
    public void MissingTensorIsAClearError()
    {
        var tiny = TinyModel.Random("llama", false, seed: 1);
        tiny.Tensors.Remove("blk.1.ffn_up.weight");
        using var file = GgufFile.Parse(tiny.ToGguf());
        var e = Assert.Throws<ModelValidationException>(() => new LlamaModel(file, new ModelOptions()));
        Assert.Contains("blk.1.ffn_up.weight", e.Message);
    }

    [Fact]
    public void UnsupportedArchitectureIsAClearError()
    {
        var tiny = TinyModel.Random("llama", false, seed: 1);
        tiny.Arch = "gemma3";
        using var file = GgufFile.Parse(tiny.ToGguf());
        var e = Assert.Throws<ModelValidationException>(() => new LlamaModel(file, new ModelOptions()));
        Assert.Contains("gemma3", e.Message);
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual)
    {
        for (var j = 0; j < expected.Length; j++)
            Assert.True(Math.Abs(actual[j] - expected[j]) < 2e-3, $"token {j}: {actual[j]} vs {expected[j]}");
    }
}
