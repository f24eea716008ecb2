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
