namespace Kiln.Templates;

/// <summary>Jinja2's built-in tests (`x is defined`, `x is divisibleby 3`, ...).</summary>
internal static class Tests
{
    private delegate bool Test(object? value, Args args);

    private static readonly Dictionary<string, Test> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["number"] = (v, _) => Py.IsNumber(v),
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is PyDict,
        // Undefined iterates as empty and supports len() and [], so Jinja counts it as iterable and a sequence.
        ["iterable"] = (v, _) => v is string or List<object?> or PyTuple or PyDict or Undefined or PyIterator,
        ["sequence"] = (v, _) => v is string or List<object?> or PyTuple or PyDict or Undefined,
        ["callable"] = (v, _) => v is PyCallable,
        ["sameas"] = (v, a) => SameAs(v, a.Required(0, "other")),
        ["escaped"] = (_, _) => false,
        ["lower"] = (v, _) => Py.Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["upper"] = (v, _) => Py.Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["even"] = (v, _) => Py.ToInt(v) % 2 == 0,
        ["odd"] = (v, _) => Py.ToInt(v) % 2 != 0,
        ["divisibleby"] = (v, a) => Py.ToInt(a.Required(0, "num")) is var n && n != 0
            ? Py.ToInt(v) % n == 0
            : throw new TemplateException("integer division or modulo by zero"),
        ["eq"] = (v, a) => Py.Eq(v, a.Required(0, "other")),
        ["equalto"] = (v, a) => Py.Eq(v, a.Required(0, "other")),
        ["=="] = (v, a) => Py.Eq(v, a.Required(0, "other")),
        ["ne"] = (v, a) => !Py.Eq(v, a.Required(0, "other")),
        ["!="] = (v, a) => !Py.Eq(v, a.Required(0, "other")),
        ["lt"] = (v, a) => Py.Compare(v, a.Required(0, "other"), "<") < 0,
        ["lessthan"] = (v, a) => Py.Compare(v, a.Required(0, "other"), "<") < 0,
        ["<"] = (v, a) => Py.Compare(v, a.Required(0, "other"), "<") < 0,
        ["le"] = (v, a) => Py.Compare(v, a.Required(0, "other"), "<=") <= 0,
        ["<="] = (v, a) => Py.Compare(v, a.Required(0, "other"), "<=") <= 0,
        ["gt"] = (v, a) => Py.Compare(v, a.Required(0, "other"), ">") > 0,
        ["greaterthan"] = (v, a) => Py.Compare(v, a.Required(0, "other"), ">") > 0,
        [">"] = (v, a) => Py.Compare(v, a.Required(0, "other"), ">") > 0,
        ["ge"] = (v, a) => Py.Compare(v, a.Required(0, "other"), ">=") >= 0,
        [">="] = (v, a) => Py.Compare(v, a.Required(0, "other"), ">=") >= 0,
        ["in"] = (v, a) => Py.Contains(a.Required(0, "seq"), v),
    };

    public static bool Exists(string name) => Table.ContainsKey(name) || name is "filter" or "test";

    public static object? Apply(Evaluator ev, string name, object? value, Args args) => name switch
    {
        "filter" => Filters.Exists(Py.Str(args.Required(0, "name"))),
        "test" => Exists(Py.Str(args.Required(0, "name"))),
        _ => Table.TryGetValue(name, out var t) ? t(value, args) : throw new TemplateException($"no test named '{name}'"),
    };

    /// <summary>Python's `is`: identity, which for None, booleans and small values means equal value.</summary>
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y && x is >= -5 and <= 256,
        (string x, string y) => ReferenceEquals(x, y),
        _ => ReferenceEquals(a, b),
    };
}
