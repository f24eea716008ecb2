using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Server.Replica;

/// <summary>A loaded model with its tokenizer, chat formatter and the scheduler driving it.</summary>
public sealed class ModelSession : IDisposable
{
    private readonly bool _ownsModels;

    /// <param name="draftModel">The draft model when the replica speculates with one; the session owns it.</param>
    /// <param name="ownsModels">Whether disposing the session disposes the models (not for the warm-up's session, which borrows them).</param>
    public ModelSession(ILanguageModel model, ITokenizer tokenizer, IChatFormatter chatFormatter, ReplicaOptions options, ILanguageModel? draftModel = null, bool ownsModels = true)
    {
        _ownsModels = ownsModels;
        Model = model;
        DraftModel = draftModel;
        Tokenizer = tokenizer;
        ChatFormatter = chatFormatter;
        MaxQueue = options.MaxQueue;
        if (model is IAdapterHost host) Adapters = new AdapterRegistry(host, options.ServedModelName);
        Scheduler = new Scheduler(model, tokenizer, SchedulerOptions(options, draftModel));
    }

    /// <summary>The scheduler shape a replica serves with (the warm-up runs the same shape).</summary>
    public static SchedulerOptions SchedulerOptions(ReplicaOptions options, ILanguageModel? draftModel = null) => new()
    {
        MaxBatchSize = options.MaxBatchSize,
        ContextSize = options.ContextSize,
        MaxQueue = options.MaxQueue,
        PrefillChunk = options.PrefillChunk,
        PrefixCacheBytes = (long)options.PrefixCacheMb << 20,
        Speculation = DraftModelLoader.Speculation(options, draftModel),
    };

    public ILanguageModel Model { get; }

    /// <summary>The model proposing tokens for speculative decoding; null without one.</summary>
    public ILanguageModel? DraftModel { get; }
    public ITokenizer Tokenizer { get; }
    public IChatFormatter ChatFormatter { get; }
    public Scheduler Scheduler { get; }
    public int MaxQueue { get; }

    /// <summary>The LoRA adapters served beside the base model; null when the model cannot apply adapters.</summary>
    public AdapterRegistry? Adapters { get; }

    public AdapterRegistry RequireAdapters() => Adapters ?? throw new ApiException(400,
        "This replica's model does not support adapters.", "invalid_request_error", code: "adapters_unsupported");

    public void Dispose()
    {
        Scheduler.Dispose();
        if (!_ownsModels) return;
        Model.Dispose();
        DraftModel?.Dispose();
    }
}
