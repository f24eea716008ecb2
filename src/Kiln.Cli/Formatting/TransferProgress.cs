using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kiln.Cli.Formatting;

/// <summary>
/// Progress of a download or upload: a live bar (bytes, percent, MB/s) on a terminal, and only a
/// final summary line otherwise.
/// </summary>
public sealed class TransferProgress
{
    private const int BarWidth = 24;
    private static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(100);

    private readonly StatusLine _line;
    private readonly bool _terminal;
    private readonly TextWriter _writer;
    private readonly string _verb;
    private readonly long? _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;

    public TransferProgress(TextWriter writer, bool terminal, string verb, long? total)
    {
        _writer = writer;
        _terminal = terminal;
        _verb = verb;
        _total = total;
        _line = new StatusLine(writer, terminal);
    }

    public void Report(long bytes)
    {
        if (!_terminal)
            return;
        var now = _clock.Elapsed;
        if (_lastDraw is { } last && now - last < RedrawEvery && bytes != _total)
            return;
        _lastDraw = now;
        _line.Show(Line(_verb, bytes, _total, now));
    }

    /// <summary>Prints the final line: "Uploaded 267.0 MB in 3.1s (86.1 MB/s)".</summary>
    public void Complete(long bytes)
    {
        var elapsed = _clock.Elapsed;
        if (_terminal)
        {
            _line.Show(Line(_verb, bytes, _total, elapsed));
            _line.End();
        }
        var done = _verb.EndsWith("ing", StringComparison.Ordinal) ? _verb[..^3] + "ed" : _verb;
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{done} {ByteSize.Format(bytes)} in {elapsed.TotalSeconds:0.0}s ({Rate(bytes, elapsed)})"));
    }

    /// <summary>Abandons a live bar so an error message starts on a fresh line.</summary>
    public void Abort() => _line.End();

    public static string Line(string verb, long bytes, long? total, TimeSpan elapsed)
    {
        var sb = new StringBuilder(verb).Append(' ');
        if (total is > 0)
        {
            var fraction = Math.Clamp((double)bytes / total.Value, 0, 1);
            var filled = (int)(fraction * BarWidth);
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"{fraction * 100,3:0}% "))
                .Append('[').Append('=', filled).Append(filled < BarWidth ? ">" : "")
                .Append(' ', Math.Max(0, BarWidth - filled - 1)).Append("] ")
                .Append(ByteSize.Format(bytes)).Append(" / ").Append(ByteSize.Format(total.Value));
        }
        else
        {
            sb.Append(ByteSize.Format(bytes));
        }
        return sb.Append("  ").Append(Rate(bytes, elapsed)).ToString();
    }

    private static string Rate(long bytes, TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{(elapsed.TotalSeconds > 0 ? bytes / elapsed.TotalSeconds / 1e6 : 0):0.0} MB/s");
}
