using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Threading;

namespace Kiln.Engine.Tests.Sampling;

/// <summary>The scheduler's per-step sampling job, run on a worker pool as the scheduler runs it.</summary>
public class ParallelSamplingTests
{
    private const int Vocab = 32000;

    private static (SamplingJob Job, float[] Logits) Step(int sequences)
    {
        var tokenizer = new FakeTokenizer();
        var texts = new TokenTextCache(tokenizer);
        var job = new SamplingJob(sequences, Vocab);
        var settings = SeededSamples.Settings.Values.ToArray();
        var logits = new float[sequences * Vocab];
        for (var i = 0; i < sequences; i++)
        {
            var sampling = settings[i % settings.Length];
            var seq = new Sequence(new GenerationRequest([1]) { Sampling = sampling }, new Sampler(Vocab, sampling), tokenizer, texts, 1000);
            job.Add(seq, i);
            SeededSamplerPinTests.Logits(Vocab, i).CopyTo(logits, i * Vocab);
        }
        return (job, logits);
    }

    private static int[] Tokens(SamplingJob job) => [.. Enumerable.Range(0, job.Count).Select(job.Token)];

    [Fact]
    public void Sampling_on_the_pool_gives_the_serial_tokens()
    {
        using var pool = new WorkerPool(2);
        var (serial, logits) = Step(10);
        var (parallel, _) = Step(10);
        for (var round = 0; round < 20; round++)
        {
            serial.Run(logits, null);
            parallel.Run(logits, pool);
            Assert.Equal(Tokens(serial), Tokens(parallel));
        }
    }

    [Fact]
    public void Sampled_steps_allocate_nothing_on_the_caller_or_the_workers()
    {
        using var pool = new WorkerPool(2);
        var (job, logits) = Step(10);
        for (var i = 0; i < 20; i++) job.Run(logits, pool); // warm up
        // As the decode allocation test: the best of a few windows must be clean, each thread's own counter read.
        long Allocated() => GC.GetAllocatedBytesForCurrentThread() + pool.WorkerAllocatedBytes;
        long best = long.MaxValue;
        for (var window = 0; window < 6 && best > 0; window++)
        {
            var before = Allocated();
            for (var i = 0; i < 20; i++) job.Run(logits, pool);
            best = Math.Min(best, Allocated() - before);
        }
        Assert.Equal(0, best);
    }
}
