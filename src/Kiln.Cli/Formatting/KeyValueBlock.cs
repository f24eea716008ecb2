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
        // Values align within one section: all top-level fields together, each section's details apart.
        var groups = new int[_rows.Count];
        var widths = new Dictionary<int, int>();
        var openSections = new Dictionary<int, int>();
        for (var i = 0; i < _rows.Count; i++)
        {
            var (kind, indent, key, _) = _rows[i];
            groups[i] = indent == 0 ? -1 : openSections.GetValueOrDefault(indent - 1, -1);
            if (kind == Kind.Section)
                openSections[indent] = i;
            else if (kind == Kind.Pair)
                widths[groups[i]] = Math.Max(widths.GetValueOrDefault(groups[i]), key.Length + 1);
        }

        var sb = new StringBuilder();
        for (var i = 0; i < _rows.Count; i++)
        {
            var (kind, indent, key, value) = _rows[i];
            sb.Append(' ', indent * 2);
            var line = kind switch
            {
                Kind.Section => key + ":",
                Kind.Line => key,
                _ => ((key + ":").PadRight(widths[groups[i]]) + " " + value).TrimEnd(),
            };
            sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }
}
