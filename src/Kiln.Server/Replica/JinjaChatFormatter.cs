using Kiln.Engine.Tokenizers;
using Kiln.Templates;

namespace Kiln.Server.Replica;

/// <summary>Renders chat turns with the model's own Jinja chat template and special tokens.</summary>
public sealed class JinjaChatFormatter(ChatTemplate template, ITokenizer tokenizer) : IChatFormatter
{
    private readonly string _bos = Piece(tokenizer, tokenizer.BosId);
    private readonly string _eos = Piece(tokenizer, tokenizer.EosId);

    public string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt) =>
        template.RenderChat(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList(), _bos, _eos, addGenerationPrompt);

    private static string Piece(ITokenizer t, int? id) => id is { } i && i >= 0 && i < t.VocabSize ? t.TokenPiece(i) : "";
}
