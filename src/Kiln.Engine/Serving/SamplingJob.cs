using Kiln.Engine.Threading;

namespace Kiln.Engine.Serving;

/// <summary>
/// Samples the next token of several sequences of one step in parallel, one sequence per part:
/// each sequence owns its sampler, so the parts share nothing but the step's logits. Sized once,
/// so a step allocates nothing.
/// </summary>
internal sealed unsafe class SamplingJob(int capacity, int vocab) : IParallelJob
{
    private readonly Sequence[] _sequences = new Sequence[capacity];
    private readonly int[] _rows = new int[capacity];
    private readonly int[] _tokens = new int[capacity];
    private float* _logits;

    public int Count { get; private set; }

    /// <summary>Queues <paramref name="seq"/> to sample from logits row <paramref name="row"/> of the step.</summary>
    public void Add(Sequence seq, int row)
    {
        _sequences[Count] = seq;
        _rows[Count++] = row;
    }

    public Sequence Sequence(int i) => _sequences[i];
    public int Token(int i) => _tokens[i];

    /// <summary>Samples every queued sequence, on the pool when there is one and more than one sequence.</summary>
    public void Run(ReadOnlySpan<float> logits, WorkerPool? pool)
    {
        fixed (float* p = logits)
        {
            _logits = p;
            if (pool is not null && Count > 1) pool.Run(this, Count);
            else
                for (var i = 0; i < Count; i++) Execute(i, Count, 0);
            _logits = null;
        }
    }

    public void Execute(int part, int parts, int thread) =>
        _tokens[part] = _sequences[part].Sampler.Sample(new ReadOnlySpan<float>(_logits + (long)_rows[part] * vocab, vocab));

    public void Clear()
    {
        Array.Clear(_sequences, 0, Count);
        Count = 0;
    }
}
