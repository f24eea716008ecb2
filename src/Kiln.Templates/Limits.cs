namespace Kiln.Templates;

/// <summary>Resource bounds for one render, so a hostile template cannot hang or exhaust the server.</summary>
internal sealed class Limits
{
    /// <summary>Largest string (rendered output or any intermediate) in UTF-16 units: 1 MiB.</summary>
    public const int MaxString = 1 << 20;

    /// <summary>Largest list a template may build.</summary>
    public const int MaxItems = 1 << 20;

    /// <summary>Loop iterations, macro calls and items processed by filters, over the whole render.</summary>
    public const long MaxSteps = 10_000_000;

    /// <summary>Nested macro calls (recursion).</summary>
    public const int MaxCallDepth = 64;

    /// <summary>Largest range() the sandbox allows, as Jinja2's sandbox.</summary>
    public const int MaxRange = 100_000;

    private long _steps;

    public void Step(long n = 1)
    {
        _steps += n;
        if (_steps > MaxSteps) throw new TemplateException($"template exceeded {MaxSteps} steps");
    }

    public string CheckString(long length, Func<string> make) =>
        length > MaxString ? throw new TemplateException($"string exceeds {MaxString} characters") : make();

    public List<object?> CheckList(long count, Func<List<object?>> make) =>
        count > MaxItems ? throw new TemplateException($"list exceeds {MaxItems} items") : make();

    public static void CheckOutput(System.Text.StringBuilder sb)
    {
        if (sb.Length > MaxString) throw new TemplateException($"output exceeds {MaxString} characters");
    }
}
