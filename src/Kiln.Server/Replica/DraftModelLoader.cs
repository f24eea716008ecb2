using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Serving.Speculation;

namespace Kiln.Server.Replica;

/// <summary>
/// Opens the draft model of a speculating replica (<c>--draft-model</c>): as many slots as the
/// target, the target's context, the same threads, and the target's vocabulary or nothing.
/// </summary>
public static class DraftModelLoader
{
    /// <summary>The draft model, or null when the replica does not speculate with one; throws when it cannot serve <paramref name="target"/>.</summary>
    public static ILanguageModel? Load(ReplicaOptions options, ILanguageModel target)
    {
        if (options.Args.DraftModel is not { } path) return null;
        var gguf = GgufFile.Open(path);
        LlamaModel draft;
        try
        {
            ModelValidator.Validate(gguf);
            draft = new LlamaModel(gguf, new ModelOptions
            {
                MaxSlots = target.Info.MaxSlots,
                ContextLength = target.Info.ContextLength,
                KvCacheType = ReplicaOptions.KvCacheTypeOf(options.KvCache),
                Threads = options.Threads ?? 0,
                MaxBatchRows = Math.Max(options.PrefillChunk + options.MaxBatchSize, 64),
            }, ownsFile: true);
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
        if (draft.Info.VocabSize == target.Info.VocabSize && draft.Info.ContextLength >= target.Info.ContextLength) return draft;
        var why = draft.Info.VocabSize != target.Info.VocabSize
            ? $"its vocabulary has {draft.Info.VocabSize} tokens, the model's {target.Info.VocabSize}"
            : $"its context of {draft.Info.ContextLength} tokens is shorter than the model's {target.Info.ContextLength} (lower --ctx-size)";
        draft.Dispose();
        throw new InvalidDataException($"draft model {Path.GetFileName(path)} cannot draft for this model: {why}");
    }

    /// <summary>The speculation a replica's flags ask for, or null.</summary>
    public static SpeculationOptions? Speculation(ReplicaOptions options, ILanguageModel? draft) =>
        options.Args.DraftTokens is { } k
            ? new SpeculationOptions { DraftTokens = k, NgramLength = options.Args.NgramSpeculation, DraftModel = draft }
            : null;
}
