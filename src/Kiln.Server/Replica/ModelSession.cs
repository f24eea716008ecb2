using Kiln.Engine.Models;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Server.Replica;

/// <summary>A loaded model with its tokenizer, chat formatter and the scheduler driving it.</summary>
public sealed class ModelSession : IDisposable
{
    public ModelSession(ILanguageModel model, ITokenizer tokenizer, IChatFormatter chatFormatter, ReplicaOptions options)
    {
        Model = model;
        Tokenizer = tokenizer;
        ChatFormatter = chatFormatter;
        MaxQueue = options.MaxQueue;
        Scheduler = new Scheduler(model, tokenizer, new SchedulerOptions
        {
            MaxBatchSize = options.MaxBatchSize,
            ContextSize = options.ContextSize,
            MaxQueue = options.MaxQueue,
            PrefillChunk = options.PrefillChunk,
        });
    }

    public ILanguageModel Model { get; }
    public ITokenizer Tokenizer { get; }
    public IChatFormatter ChatFormatter { get; }
    public Scheduler Scheduler { get; }
    public int MaxQueue { get; }

    public void Dispose()
    {
        Scheduler.Dispose();
        Model.Dispose();
    }
}
