using System.Text;

namespace Kiln.Cli.Formatting;

/// <summary>A plain-text table: upper-case headers, columns padded to their widest cell.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < widths.Length; i++)
                widths[i] = Math.Max(widths[i], row.ElementAtOrDefault(i)?.Length ?? 0);
        }
        var sb = new StringBuilder();
        AppendRow(sb, headers, widths);
        foreach (var row in _rows)
            AppendRow(sb, row, widths);
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = cells.ElementAtOrDefault(i) ?? "";
            line.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 3));
        }
        sb.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
