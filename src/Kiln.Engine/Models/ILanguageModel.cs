namespace Kiln.Engine.Models;

/// <summary>Facts about a loaded model the serving layer needs.</summary>
public sealed record ModelInfo(string Architecture, string Name, int VocabSize, int ContextLength, int MaxSlots);

/// <summary>
/// A causal language model with a per-slot KV cache. The caller (the scheduler) owns slot
/// allocation and positions: each slot is one sequence whose cached tokens occupy positions 0..n-1.
/// </summary>
public interface ILanguageModel : IDisposable
{
    ModelInfo Info { get; }

    /// <summary>
    /// Runs one forward step over every row of the batch (rows of different slots may be mixed,
    /// and a slot's rows must have consecutive positions continuing its cache). Returns the logits
    /// of the rows that asked for them, in row order, each <c>VocabSize</c> floats long. The span
    /// stays valid until the next call.
    /// </summary>
    ReadOnlySpan<float> Forward(Batch batch);

    /// <summary>Forgets a slot's cached tokens from <paramref name="fromPosition"/> on (0 = all).</summary>
    void Truncate(int slot, int fromPosition);

    /// <summary>
    /// Bytes of cached keys and values one position takes in <see cref="SaveKv"/>'s format; 0 when the
    /// model cannot save and restore positions (a prefix cache then stays off).
    /// </summary>
    long KvBytesPerPosition => 0;

    /// <summary>Names the saved format (element type and shape): saved positions only load into a model with the same.</summary>
    string KvFormat => string.Empty;

    /// <summary>Copies the cached keys and values of positions [position, position + count) of a slot out.</summary>
    void SaveKv(int slot, int position, int count, Span<byte> destination) => throw new NotSupportedException("this model cannot save its KV cache");

    /// <summary>Writes positions saved by <see cref="SaveKv"/> into a slot at the same positions.</summary>
    void LoadKv(int slot, int position, int count, ReadOnlySpan<byte> source) => throw new NotSupportedException("this model cannot load a KV cache");

    /// <summary>
    /// The model's compute threads, idle between forward passes, which the scheduler lends per-sequence
    /// work such as sampling; null when the model has none (the work then runs on the scheduler's thread).
    /// </summary>
    internal Threading.WorkerPool? Workers => null;
}
