namespace Kiln.Cli.Formatting;

/// <summary>
/// A status that changes over time: rewritten in place on a terminal, otherwise one line per
/// change so logs stay readable.
/// </summary>
public sealed class StatusLine(TextWriter writer, bool terminal)
{
    private const string ClearToEndOfLine = "\u001b[K";
    private string? _last;

    public void Show(string text)
    {
        if (text == _last)
            return;
        _last = text;
        if (terminal)
            writer.Write($"\r{text}{ClearToEndOfLine}");
        else
            writer.WriteLine(text);
        writer.Flush();
    }

    /// <summary>Ends a rewritten line so whatever follows starts on its own line.</summary>
    public void End()
    {
        if (terminal && _last is not null)
            writer.WriteLine();
        _last = null;
    }
}
