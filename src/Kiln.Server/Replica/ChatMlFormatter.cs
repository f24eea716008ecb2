using System.Text;

namespace Kiln.Server.Replica;

/// <summary>ChatML (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;</c>), the fallback when a model ships no template.</summary>
public sealed class ChatMlFormatter : IChatFormatter
{
    public string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt)
    {
        var sb = new StringBuilder();
        foreach (var m in messages)
            sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        return sb.ToString();
    }
}
