using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Tokenizers;
using Kiln.Server.Replica;
using Kiln.Templates;

namespace Kiln.Server;

/// <summary>
/// Turns a GGUF file into what a replica serves: the forward pass, the file's tokenizer, and its
/// chat template (ChatML when the file has none).
/// </summary>
public static class ModelLoader
{
    public static (ILanguageModel Model, ITokenizer Tokenizer, IChatFormatter ChatFormatter) Load(ReplicaOptions options)
    {
        var gguf = GgufFile.Open(options.ModelPath);
        try
        {
            var tokenizer = TokenizerFactory.FromGguf(gguf);
            var model = new LlamaModel(gguf, new ModelOptions
            {
                MaxSlots = options.MaxBatchSize,
                ContextLength = options.ContextSize ?? 0,
                KvCacheType = ReplicaOptions.KvCacheTypeOf(options.KvCacheType),
                Threads = options.Threads ?? 0,
                MaxBatchRows = Math.Max(options.PrefillChunk + options.MaxBatchSize, 64),
            }, ownsFile: true);
            var source = gguf.GetString("tokenizer.chat_template");
            var template = ChatTemplate.Parse(string.IsNullOrWhiteSpace(source) ? ChatTemplate.ChatMLFallback : source);
            return (model, tokenizer, new JinjaChatFormatter(template, tokenizer));
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
    }
}
