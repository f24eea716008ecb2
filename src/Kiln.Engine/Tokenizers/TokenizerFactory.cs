using Kiln.Engine.Gguf;

namespace Kiln.Engine.Tokenizers;

/// <summary>Builds the tokenizer a GGUF model describes in its <c>tokenizer.ggml.*</c> metadata.</summary>
public static class TokenizerFactory
{
    /// <summary>
    /// Builds the model's tokenizer. An unknown <c>tokenizer.ggml.pre</c> on a BPE model falls back
    /// to the GPT-2 pre-tokenizer (see <see cref="BpeTokenizer.PreTokenizerName"/>); use the overload
    /// with <c>strictPreTokenizer</c> to refuse such models instead.
    /// </summary>
    /// <exception cref="NotSupportedException">The tokenizer model is not one Kiln implements.</exception>
    /// <exception cref="InvalidDataException">The tokenizer metadata is missing or inconsistent.</exception>
    public static ITokenizer FromGguf(GgufFile file) => FromGguf(file, strictPreTokenizer: false);

    public static ITokenizer FromGguf(GgufFile file, bool strictPreTokenizer)
    {
        ArgumentNullException.ThrowIfNull(file);
        var model = file.GetString("tokenizer.ggml.model")
            ?? throw new NotSupportedException("the GGUF file has no tokenizer (tokenizer.ggml.model is missing)");
        switch (model)
        {
            case "llama":
                return new SpmTokenizer(Vocabulary.Load(file, VocabType.SentencePiece, addBosByDefault: true));
            case "bert":
                return new WordPieceTokenizer(Vocabulary.Load(file, VocabType.WordPiece, addBosByDefault: true));
            case "gpt2":
                {
                    var pre = file.GetString("tokenizer.ggml.pre");
                    var preTokenizer = PreTokenizer.ForName(pre);
                    var name = preTokenizer?.Name ?? "";
                    if (preTokenizer is null)
                    {
                        if (strictPreTokenizer)
                            throw new NotSupportedException($"BPE pre-tokenizer '{pre}' (tokenizer.ggml.pre) is not supported");
                        preTokenizer = PreTokenizer.ForName("gpt-2")!;
                        name = $"gpt-2 (fallback for unknown '{pre}')";
                    }
                    var merges = file.GetArray<string>("tokenizer.ggml.merges")
                        ?? throw new InvalidDataException("BPE tokenizer has no tokenizer.ggml.merges");
                    var vocab = Vocabulary.Load(file, VocabType.BytePairEncoding, PreTokenizer.AddsBosByDefault(pre));
                    return new BpeTokenizer(vocab, merges, preTokenizer, name, PreTokenizer.IgnoresMerges(pre));
                }
            case "none":
                throw new NotSupportedException("the model has no tokenizer (tokenizer.ggml.model = 'none')");
            default:
                throw new NotSupportedException($"tokenizer model '{model}' (tokenizer.ggml.model) is not supported; Kiln supports llama, gpt2 and bert");
        }
    }
}
