namespace Kiln.Engine.Tokenizers;

/// <summary>An immutable set of code point ranges, written like a regex character class body.</summary>
internal sealed class CodepointSet
{
    private readonly int[] _starts;
    private readonly int[] _ends;

    private CodepointSet(int[] starts, int[] ends)
    {
        _starts = starts;
        _ends = ends;
    }

    /// <summary>Parses "a-zµÀ-Ö…": single code points and inclusive ranges, no escapes.</summary>
    public static CodepointSet Parse(string spec)
    {
        var cps = new List<int>();
        foreach (var r in spec.EnumerateRunes()) cps.Add(r.Value);
        var ranges = new List<(int Start, int End)>();
        for (var i = 0; i < cps.Count; i++)
        {
            if (i + 2 < cps.Count && cps[i + 1] == '-')
            {
                ranges.Add((cps[i], cps[i + 2]));
                i += 2;
            }
            else
            {
                ranges.Add((cps[i], cps[i]));
            }
        }
        ranges.Sort();
        return new CodepointSet([.. ranges.Select(r => r.Start)], [.. ranges.Select(r => r.End)]);
    }

    public bool Contains(int cp)
    {
        // Ranges may overlap, so check every range starting at or before cp (there are few).
        var i = Array.BinarySearch(_starts, cp);
        if (i < 0) i = ~i - 1;
        for (; i >= 0; i--)
        {
            if (cp <= _ends[i]) return true;
        }
        return false;
    }
}
