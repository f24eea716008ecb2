using Kiln.Engine.Gguf;
using Kiln.Engine.Models;

namespace Kiln.Engine.Tests.Models;

/// <summary>The per-token decode path allocates nothing on the GC heap, on the caller thread or the workers.</summary>
public class DecodeAllocationTests
{
    private const int Steps = 64;

    [Fact]
    public void TinyF32ModelDecodesWithoutAllocating()
    {
        var tiny = TinyModel.Random("llama", false, seed: 5);
        using var file = GgufFile.Parse(tiny.ToGguf());
        using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 2, Threads = 2 });
        AssertDecodeAllocatesNothing(model);
    }

    [SharedTheory]
    [InlineData("TinyStories-656K-Q8_0.gguf")]
    [InlineData("synth-15m-q4_0.gguf")]
    public void QuantizedModelDecodesWithoutAllocating(string name)
    {
        using var model = LlamaModel.Load(SharedFiles.Model(name), new ModelOptions { MaxSlots = 2, ContextLength = 256, Threads = 2 });
        AssertDecodeAllocatesNothing(model);
    }

    private static void AssertDecodeAllocatesNothing(LlamaModel model)
    {
        var batch = new Batch();
        var position = 0;
        void Step()
        {
            // One decode row per slot: the single-stream and the batched shapes.
            batch.Clear();
            batch.Add(1 + position % 7, 0, position, true);
            batch.Add(2 + position % 5, 1, position, true);
            model.Forward(batch);
            batch.Clear();
            batch.Add(3, 0, position + 1, true);
            model.Forward(batch);
            position = (position + 2) % (model.Info.ContextLength - 2);
        }
        // Warm up: buffers grow to their size and the JIT settles.
        for (var i = 0; i < 40; i++) Step();

        // Tiered compilation may still swap code in (and allocate) during the first windows: the best of
        // a few windows must be clean. Each thread's own counter is read, so the test runner's threads
        // do not count.
        long Allocated() => GC.GetAllocatedBytesForCurrentThread() + model.Pool.WorkerAllocatedBytes;
        long best = long.MaxValue;
        for (var window = 0; window < 6 && best > 0; window++)
        {
            var before = Allocated();
            for (var i = 0; i < Steps; i++) Step();
            best = Math.Min(best, Allocated() - before);
        }
        Assert.Equal(0, best);
    }
}
