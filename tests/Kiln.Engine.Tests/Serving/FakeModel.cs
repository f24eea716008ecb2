using Kiln.Engine.Models;

namespace Kiln.Engine.Tests.Serving;

/// <summary>
/// Deterministic model: each row strongly predicts <see cref="Next"/> of its own token (by default
/// the following byte, and EOS after 'z'). Checks that every slot is fed consecutive positions and
/// records each step's rows and every truncation.
/// </summary>
internal sealed class FakeModel : ILanguageModel
{
    private readonly int[] _cached;
    private float[] _logits = new float[FakeTokenizer.Size * 4];
    private readonly Lock _log = new();
    private readonly ManualResetEventSlim _resume = new(true);
    private int _pauseAt = int.MaxValue;
    private volatile bool _paused;

    public FakeModel(int contextLength = 512, int maxSlots = 8)
    {
        Info = new ModelInfo("fake", "fake", FakeTokenizer.Size, contextLength, maxSlots);
        _cached = new int[maxSlots];
    }

    public ModelInfo Info { get; }
    public Func<int, int> Next { get; init; } = DefaultNext;

    /// <summary>Writes a row's logits from its token instead of <see cref="Next"/>'s single peak.</summary>
    public Action<int, Span<float>>? Fill { get; init; }
    public TimeSpan StepDelay { get; init; }
    public List<(int Slot, int Position, int Token)[]> Steps { get; } = [];
    public List<(int Slot, int From)> Truncations { get; } = [];
    public Func<Batch, bool>? FailWhen { get; init; }

    public static int DefaultNext(int token) => token switch
    {
        'z' => FakeTokenizer.Eos,
        < 256 => (token + 1) & 0xFF,
        _ => 'a',
    };

    public int StepCount { get { lock (_log) return Steps.Count; } }

    public int CachedTokens(int slot) => Volatile.Read(ref _cached[slot]);

    /// <summary>Blocks step <paramref name="step"/> (0-based) and later ones until <see cref="Resume"/>: deterministic "mid-flight".</summary>
    public void PauseAt(int step)
    {
        _resume.Reset();
        Volatile.Write(ref _pauseAt, step);
    }

    public void Resume()
    {
        Volatile.Write(ref _pauseAt, int.MaxValue);
        _resume.Set();
    }

    /// <summary>True while a step is blocked by <see cref="PauseAt"/>.</summary>
    public bool Paused => _paused;

    public ReadOnlySpan<float> Forward(Batch batch)
    {
        if (StepCount >= Volatile.Read(ref _pauseAt))
        {
            _paused = true;
            _resume.Wait();
            _paused = false;
        }
        if (StepDelay > TimeSpan.Zero) Thread.Sleep(StepDelay);
        if (FailWhen?.Invoke(batch) == true) throw new InvalidOperationException("model failure");
        var rows = new (int, int, int)[batch.Count];
        var need = batch.LogitRows * FakeTokenizer.Size;
        if (_logits.Length < need) _logits = new float[need];
        var logitRow = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            int slot = batch.Slots[i], pos = batch.Positions[i], token = batch.Tokens[i];
            if (pos != _cached[slot]) throw new InvalidOperationException($"slot {slot}: position {pos} but {_cached[slot]} cached");
            Volatile.Write(ref _cached[slot], pos + 1);
            rows[i] = (slot, pos, token);
            if (!batch.WantLogits[i]) continue;
            var span = _logits.AsSpan(logitRow++ * FakeTokenizer.Size, FakeTokenizer.Size);
            span.Clear();
            if (Fill is { } fill) fill(token, span);
            else span[Next(token)] = 10f;
        }
        lock (_log) Steps.Add(rows);
        return _logits.AsSpan(0, need);
    }

    public void Truncate(int slot, int fromPosition)
    {
        lock (_log) Truncations.Add((slot, fromPosition));
        Volatile.Write(ref _cached[slot], Math.Min(_cached[slot], fromPosition));
    }

    public void Dispose() { }
}
