using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Kiln.Server.Gateway;

/// <summary>One sample of the Prometheus text format: <c>name{label="value",...} 1.5</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)
{
    /// <summary>The value of a label, or null.</summary>
    public string? Label(string name) => Labels.FirstOrDefault(l => l.Key == name).Value;
}

/// <summary>
/// A parsed scrape: samples in order, and the <c># TYPE</c> and <c># HELP</c> (as written, escapes
/// kept) of each metric family.
/// </summary>
public sealed record PrometheusScrape(IReadOnlyList<PrometheusSample> Samples, IReadOnlyDictionary<string, string> Types, IReadOnlyDictionary<string, string>? Helps = null)
{
    /// <summary>The first sample named <paramref name="name"/> without labels (or with any), or null.</summary>
    public double? Value(string name) => Samples.FirstOrDefault(s => s.Name == name)?.Value;

    /// <summary>
    /// The sum of every sample named <paramref name="name"/> (e.g. over a label), or null when there is
    /// none. A plain loop: the autoscaler reads each of its signals this way from every replica every pass.
    /// </summary>
    public double? Sum(string name)
    {
        double? total = null;
        for (var i = 0; i < Samples.Count; i++)
        {
            if (Samples[i].Name == name)
            {
                total = (total ?? 0) + Samples[i].Value;
            }
        }
        return total;
    }
}

/// <summary>
/// Reads and writes the Prometheus text exposition format (version 0.0.4): enough to scrape a
/// replica and re-export its samples with more labels.
/// </summary>
public static class PrometheusText
{
    /// <summary>Parses <paramref name="text"/>; malformed lines are skipped, not fatal.</summary>
    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (line[0] == '#')
            {
                var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                {
                    types[parts[2]] = parts[3];
                }
                else if (parts.Length >= 3 && parts[1] == "HELP")
                {
                    helps[parts[2]] = parts.Length == 4 ? parts[3] : "";
                }
                continue;
            }
            if (TryParseSample(line, out var sample))
            {
                samples.Add(sample);
            }
        }
        return new PrometheusScrape(samples, types, helps);
    }

    /// <summary>Parses UTF-8 text (a leading byte-order mark skipped, as a UTF-8 decoder does).</summary>
    public static PrometheusScrape Parse(ReadOnlySpan<byte> utf8) => Parse(Encoding.UTF8.GetString(WithoutBom(utf8)));

    /// <summary>
    /// The samples <see cref="Parse(string)"/> would find in <paramref name="utf8"/> whose names
    /// <paramref name="filter"/> holds, in the same order (no types or help). A line that cannot
    /// hold one (a comment, or no wanted name anywhere in it) is skipped without being decoded, so
    /// reading a few signals from a replica's scrape costs little more than finding them; every
    /// other line is parsed exactly as <see cref="Parse(string)"/> parses it.
    /// </summary>
    public static PrometheusScrape ParseOnly(ReadOnlySpan<byte> utf8, PrometheusFilter filter)
    {
        var samples = new List<PrometheusSample>();
        var rest = WithoutBom(utf8);
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            if (!filter.MayHold(line))
            {
                continue;
            }
            var text = Encoding.UTF8.GetString(line).TrimEnd('\r').Trim();
            if (text.Length > 0 && text[0] != '#' && TryParseSample(text, out var sample) && filter.Names.Contains(sample.Name))
            {
                samples.Add(sample);
            }
        }
        return new PrometheusScrape(samples, EmptyTypes);
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyTypes = new Dictionary<string, string>();

    private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) => utf8.StartsWith(Encoding.UTF8.Preamble) ? utf8[Encoding.UTF8.Preamble.Length..] : utf8;

    private static bool TryParseSample(string line, out PrometheusSample sample)
    {
        sample = null!;
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ' && line[i] != '\t')
        {
            i++;
        }
        var name = line[..i];
        if (name.Length == 0)
        {
            return false;
        }
        var labels = new List<KeyValuePair<string, string>>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && (line[i] == ' ' || line[i] == ','))
                {
                    i++;
                }
                if (i >= line.Length)
                {
                    return false;
                }
                if (line[i] == '}')
                {
                    i++;
                    break;
                }
                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    return false;
                }
                var key = line[i..eq].Trim();
                var value = new StringBuilder();
                i = eq + 2;
                for (; i < line.Length && line[i] != '"'; i++)
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        value.Append(line[i] switch { 'n' => '\n', var c => c });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }
                }
                if (i >= line.Length)
                {
                    return false;
                }
                i++; // closing quote
                labels.Add(new(key, value.ToString()));
            }
        }
        var rest = line[i..].Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length == 0 || !TryParseValue(rest[0], out var v))
        {
            return false;
        }
        sample = new PrometheusSample(name, labels, v);
        return true;
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf": value = double.PositiveInfinity; return true;
            case "-Inf": value = double.NegativeInfinity; return true;
            case "NaN": value = double.NaN; return true;
            default: return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    /// <summary>Appends one sample line, with a timestamp (Unix milliseconds) when given.</summary>
    public static void AppendSample(StringBuilder sb, string name, IEnumerable<KeyValuePair<string, string>> labels, double value, long? timestampMs = null)
    {
        sb.Append(name);
        var first = true;
        foreach (var (k, v) in labels)
        {
            sb.Append(first ? '{' : ',').Append(k).Append("=\"").Append(Escape(v)).Append('"');
            first = false;
        }
        if (!first)
        {
            sb.Append('}');
        }
        sb.Append(' ').Append(FormatValue(value));
        if (timestampMs is { } ts)
        {
            sb.Append(' ').Append(ts.ToString(CultureInfo.InvariantCulture));
        }
        sb.Append('\n');
    }

    /// <summary>Appends the <c># HELP</c> and <c># TYPE</c> lines of a metric family.</summary>
    public static void AppendHeader(StringBuilder sb, string name, string type, string? help = null)
    {
        if (help is not null)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        }
        sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    /// <summary>A value as Prometheus writes it.</summary>
    public static string FormatValue(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string v) =>
        v.AsSpan().IndexOfAny("\\\"\n") < 0 ? v
        : v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>The metric names <see cref="PrometheusText.ParseOnly"/> keeps, with their UTF-8 bytes to look for.</summary>
public sealed class PrometheusFilter
{
    private readonly byte[][] _utf8;

    /// <summary>A filter for <paramref name="names"/>.</summary>
    public PrometheusFilter(IEnumerable<string> names)
    {
        Names = names.ToFrozenSet(StringComparer.Ordinal);
        _utf8 = [.. Names.Where(n => n.Length > 0).Select(Encoding.UTF8.GetBytes)];
    }

    /// <summary>The names kept.</summary>
    public IReadOnlySet<string> Names { get; }

    /// <summary>
    /// False only for a line that cannot hold a sample of a kept name: a comment (<c>#</c> after
    /// spaces or tabs), or a line whose first word (up to <c>{</c>, a space or a tab: a sample's
    /// name) is none of the names. Comparing that word, not searching the whole line for every
    /// name, keeps this cheap on the long label sets of histogram lines.
    /// </summary>
    public bool MayHold(ReadOnlySpan<byte> line)
    {
        var start = line.IndexOfAnyExcept((byte)' ', (byte)'\t');
        if (start < 0 || line[start] == (byte)'#')
        {
            return false;
        }
        var word = line[start..];
        var end = word.IndexOfAny((byte)'{', (byte)' ', (byte)'\t');
        if (end >= 0)
        {
            word = word[..end];
        }
        foreach (var name in _utf8)
        {
            if (word.SequenceEqual(name))
            {
                return true;
            }
        }
        return false;
    }
}
