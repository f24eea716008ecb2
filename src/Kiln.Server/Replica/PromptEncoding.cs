using System.Text;
using Kiln.Engine.Tokenizers;

namespace Kiln.Server.Replica;

/// <summary>Prompt text to tokens and back, the same way for completions and chat.</summary>
internal static class PromptEncoding
{
    /// <summary>
    /// Special-token text (as chat templates write it) becomes its id; BOS is added when the
    /// tokenizer asks for it, unless the text already starts with it (templates often write it).
    /// </summary>
    public static int[] Encode(ITokenizer tokenizer, string text)
    {
        var tokens = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
        return WithBos(tokenizer, tokens);
    }

    /// <summary>
    /// <see cref="Encode"/> for a prompt that must fit <paramref name="contextSize"/> tokens: one that
    /// cannot is refused as soon as that is known (often from its length alone), never tokenized in full.
    /// </summary>
    public static int[] Encode(ITokenizer tokenizer, string text, int contextSize, string param)
    {
        var tokens = tokenizer.EncodeAtMost(text, addSpecial: false, parseSpecial: true, contextSize)
            ?? throw TooLong(contextSize, "more than " + contextSize, param);
        // With BOS the prompt may be one past the context; the scheduler refuses that one itself.
        return WithBos(tokenizer, tokens);
    }

    /// <summary>The 400 for a prompt past the context, worded like the scheduler's.</summary>
    public static ApiException TooLong(int contextSize, string count, string param) => ApiException.Invalid(
        $"This model's maximum context length is {contextSize} tokens, but the prompt has {count} tokens.", param, "context_length_exceeded");

    private static int[] WithBos(ITokenizer tokenizer, int[] tokens)
    {
        if (tokenizer.AddBos && tokenizer.BosId is { } bos && (tokens.Length == 0 || tokens[0] != bos))
            return [bos, .. tokens];
        return tokens;
    }

    public static string Decode(ITokenizer tokenizer, IReadOnlyList<int> tokens)
    {
        var bytes = new List<byte>();
        foreach (var t in tokens) bytes.AddRange(tokenizer.TokenBytes(t));
        return Encoding.UTF8.GetString([.. bytes]);
    }
}
