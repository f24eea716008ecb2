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
            // The checks the server's import ran, before any weight is touched.
            var (validated, template) = Validate(gguf);
            var model = new LlamaModel(gguf, new ModelOptions
            {
                MaxSlots = options.MaxBatchSize,
                ContextLength = options.ContextSize ?? 0,
                KvCacheType = ReplicaOptions.KvCacheTypeOf(options.KvCache),
                Threads = options.Threads ?? 0,
                // A speculating step verifies each sequence's drafts beside its decode row.
                MaxBatchRows = Math.Max(options.PrefillChunk + options.MaxBatchSize * (1 + (options.Args.DraftTokens ?? 0)), 64),
            }, ownsFile: true);
            return (model, validated.Tokenizer, new JinjaChatFormatter(template, validated.Tokenizer));
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Everything <see cref="Load"/> checks, without loading weights: the engine's
    /// <see cref="ModelValidator"/> (hyperparameters, tensors, tokenizer) and the chat template.
    /// Throws <see cref="GgufFormatException"/> (a <see cref="ModelValidationException"/> for a
    /// well-formed file Kiln cannot serve).
    /// </summary>
    public static (ValidatedModel Model, ChatTemplate ChatTemplate) Validate(GgufFile gguf)
    {
        var model = ModelValidator.Validate(gguf);
        var source = gguf.GetString("tokenizer.chat_template");
        try
        {
            return (model, ChatTemplate.Parse(string.IsNullOrWhiteSpace(source) ? ChatTemplate.ChatMLFallback : source));
        }
        catch (TemplateException e)
        {
            throw new ModelValidationException($"tokenizer.chat_template does not parse: {e.Message}",
                "tokenizer.chat_template", gguf.MetadataOffset("tokenizer.chat_template"));
        }
    }
}
