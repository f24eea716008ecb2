namespace Kiln.Engine.Tokenizers;

/// <summary>Kind of a vocabulary entry, numbered as GGUF's <c>tokenizer.ggml.token_type</c>.</summary>
public enum TokenKind
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>A tokenizer built from a model's GGUF metadata.</summary>
public interface ITokenizer
{
    int VocabSize { get; }
    int? BosId { get; }
    int? EosId { get; }
    /// <summary>
    /// Every id that ends generation: EOS plus end-of-turn tokens such as <c>&lt;|eot_id|&gt;</c> or
    /// <c>&lt;|im_end|&gt;</c>.
    /// </summary>
    IReadOnlySet<int> EndOfGenerationIds { get; }
    bool AddBos { get; }
    bool AddEos { get; }

    /// <summary>
    /// Tokenizes text. <paramref name="addSpecial"/> adds BOS/EOS (or CLS/SEP) as the model asks;
    /// <paramref name="parseSpecial"/> turns special-token text such as <c>&lt;|im_start|&gt;</c> into its id.
    /// </summary>
    int[] Encode(string text, bool addSpecial, bool parseSpecial);

    /// <summary>
    /// <see cref="Encode"/>, or null as soon as the text is known to need more than
    /// <paramref name="maxTokens"/> tokens, so oversized input costs little work and memory. When it
    /// returns tokens they are exactly <see cref="Encode"/>'s.
    /// </summary>
    int[]? EncodeAtMost(string text, bool addSpecial, bool parseSpecial, int maxTokens)
    {
        var tokens = Encode(text, addSpecial, parseSpecial);
        return tokens.Length <= maxTokens ? tokens : null;
    }

    /// <summary>The exact bytes a token contributes to generated text (control tokens: none).</summary>
    ReadOnlySpan<byte> TokenBytes(int id);

    /// <summary>The vocabulary piece as stored in the model (for logprob display and debugging).</summary>
    string TokenPiece(int id);

    TokenKind Kind(int id);
}
