namespace Kiln.Server.Replica;

/// <summary>One chat message as the formatter sees it: text parts already joined.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>
/// Renders a conversation into prompt text (the model's chat template). Exceptions thrown here are
/// reported to the client as 400 errors, since they come from what the messages contain.
/// </summary>
public interface IChatFormatter
{
    string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt);
}
