using System.Text;

namespace Kiln.Cli.Formatting;

/// <summary>firectl-style "Key: value" lines with the values of each nesting level aligned.</summary>
public sealed class KeyValueBlock
{
    private enum Kind { Pair, Section, Line }

    private readonly List<(Kind Kind, int Indent, string Key, string Value)> _rows = [];

    public KeyValueBlock Add(string key, string value, int indent = 0)
    {
        _rows.Add((Kind.Pair, indent, key, value));
        return this;
    }

    /// <summary>A heading whose details follow, indented one level deeper.</summary>
    public KeyValueBlock Section(string key, int indent = 0)
    {
        _rows.Add((Kind.Section, indent, key, ""));
        return this;
    }

    /// <summary>A free-form line (e.g. one event) inside a section.</summary>
    public KeyValueBlock Line(string text, int indent)
    {
        _rows.Add((Kind.Line, indent, text, ""));
        return this;
    }

    public override string ToString()
    {
        var widths = new Dictionary<int, int>();
        foreach (var row in _rows.Where(r => r.Kind == Kind.Pair))
            widths[row.Indent] = Math.Max(widths.GetValueOrDefault(row.Indent), row.Key.Length + 1);

        var sb = new StringBuilder();
        foreach (var (kind, indent, key, value) in _rows)
        {
            sb.Append(' ', indent * 2);
            var line = kind switch
            {
                Kind.Section => key + ":",
                Kind.Line => key,
                _ => ((key + ":").PadRight(widths[indent]) + " " + value).TrimEnd(),
            };
            sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }
}
