namespace Kiln.Core.Wire;

/// <summary>A two-way map between an enum and its wire names ("NVIDIA_A100_80GB", "READY").</summary>
internal sealed class WireTable<T>(params (T Value, string Name)[] rows) where T : struct, Enum
{
    public string Name(T value)
    {
        foreach (var row in rows)
        {
            if (EqualityComparer<T>.Default.Equals(row.Value, value))
            {
                return row.Name;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(value), value, $"no wire name for {typeof(T).Name}");
    }

    /// <summary>Exact, case-sensitive match on the wire name.</summary>
    public bool TryParse(string? name, out T value)
    {
        foreach (var row in rows)
        {
            if (row.Name == name)
            {
                value = row.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    public IEnumerable<string> Names => rows.Select(r => r.Name);
}
