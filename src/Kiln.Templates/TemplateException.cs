namespace Kiln.Templates;

/// <summary>A chat template failed to parse or to render; the message says why (and where, for syntax errors).</summary>
public sealed class TemplateException : Exception
{
    public TemplateException(string message) : base(message) { }

    public TemplateException(string message, Exception inner) : base(message, inner) { }

    /// <summary>1-based template line the error refers to, when known.</summary>
    public int? Line { get; init; }

    internal static TemplateException At(int line, string message) => new($"line {line}: {message}") { Line = line };
}
