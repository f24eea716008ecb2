namespace Kiln.Templates;

/// <summary>A frame of variables. Loop iterations and macro calls get child frames; if-blocks share theirs,
/// so `set` inside a loop body is forgotten after the iteration, as in Jinja2.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._vars.TryGetValue(name, out value)) return true;
        }
        value = null;
        return false;
    }

    public Scope? Parent { get; } = parent;

    public void Set(string name, object? value) => _vars[name] = value;
}
