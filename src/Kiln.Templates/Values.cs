namespace Kiln.Templates;

// Runtime values are plain CLR objects with Python meaning:
// null = None, bool, long = int, double = float, string = str, List<object?> = list,
// PyTuple = tuple, PyDict = dict, plus the types below.

/// <summary>Jinja2's default Undefined: prints as "", is falsy and iterates as empty, but fails on
/// attribute access, subscripting, calling and arithmetic.</summary>
internal sealed class Undefined(string message)
{
    public string Message { get; } = message;

    public static Undefined Named(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? owner, object? name) =>
        new($"'{Py.TypeName(owner)}' object has no attribute '{Py.Str(name)}'");

    public TemplateException Fail() => new(Message);
}

internal sealed class PyTuple(IReadOnlyList<object?> items)
{
    public IReadOnlyList<object?> Items { get; } = items;
}

/// <summary>An insertion-ordered dict with Python key equality (1 == 1.0 == True).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public PyDict() : base(PyKeyComparer.Instance) { }

    public static object KeyOf(object? key) => key ?? NoneKey.Instance;

    public static object? Unkey(object key) => key is NoneKey ? null : key;

    public bool TryGet(object? key, out object? value) => TryGetValue(KeyOf(key), out value);

    public void Set(object? key, object? value) => this[KeyOf(key)] = value;

    /// <summary>Stands in for a None key, which the underlying dictionary cannot hold.</summary>
    private sealed class NoneKey
    {
        public static readonly NoneKey Instance = new();
    }
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => Py.Eq(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
        PyTuple t => t.Items.Aggregate(17, (h, v) => h * 31 + (v is null ? 0 : GetHashCode(v))),
        _ => obj.GetHashCode(),
    };
}

/// <summary>The object made by namespace(): the one thing templates may assign attributes on.</summary>
internal sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}

/// <summary>Anything a template can call: macros, globals and bound methods.</summary>
internal abstract class PyCallable
{
    public abstract string Name { get; }

    public abstract object? Invoke(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int line);
}

internal sealed class BuiltinFunction(string name, Func<Evaluator, Args, object?> body) : PyCallable
{
    public override string Name => name;

    public override object? Invoke(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int line) =>
        body(ev, new Args(name, args, kwargs));
}

/// <summary>The `loop` variable inside a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items, int depth0)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => (long)depth0 + 1,
        "depth0" => (long)depth0,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Named("previtem"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : Undefined.Named("nextitem"),
        "cycle" => new BuiltinFunction("cycle", (_, a) =>
            a.Positional.Count == 0 ? throw new TemplateException("no items for cycling given") : a.Positional[Index0 % a.Positional.Count]),
        _ => Undefined.Attribute(this, name),
    };
}

/// <summary>A one-shot iterator, what Jinja filters such as map and selectattr return: always truthy,
/// without len(), not JSON-serializable, and empty once consumed.</summary>
internal sealed class PyIterator(string kind, IReadOnlyList<object?> items)
{
    private int _next;

    public string Kind { get; } = kind;

    public IEnumerable<object?> Consume()
    {
        while (_next < items.Count) yield return items[_next++];
    }
}
