using System.Globalization;
using System.Text;

namespace Kiln.Core.Engines;

/// <summary>What a launch fills an engine's command template with.</summary>
/// <param name="Model">The model's path on the node (a GGUF file or a Hugging Face folder).</param>
/// <param name="Host">The address the engine binds.</param>
/// <param name="Port">The port it listens on; null leaves <c>{port}</c> in place for whoever picks the port on the node (<c>kiln engine-exec</c>).</param>
/// <param name="WorldSize">Accelerators per replica: the tensor-parallel size.</param>
/// <param name="MaxBatch">Sequences the engine runs at once.</param>
/// <param name="Context">Context tokens per sequence; null leaves the model's (the token and the flag before it are dropped).</param>
/// <param name="ServedModelName">The name requests use, <c>accounts/A/models/M</c>.</param>
public sealed record TemplateValues(string Model, string Host, int? Port, int WorldSize, int MaxBatch, int? Context, string ServedModelName);

/// <summary>
/// An engine's command line with <c>{placeholder}</c>s, one argument per element (no shell parsing,
/// so a path with spaces stays one argument). A template is checked once, when the configuration
/// loads: an unknown placeholder or an unbalanced brace is refused then, never at a replica's start.
/// </summary>
public static class CommandTemplate
{
    /// <summary>The model path.</summary>
    public const string Model = "model";
    /// <summary>The bind address.</summary>
    public const string Host = "host";
    /// <summary>The port.</summary>
    public const string Port = "port";
    /// <summary>The tensor-parallel size (the deployment's accelerator count).</summary>
    public const string WorldSize = "world_size";
    /// <summary>Sequences run at once.</summary>
    public const string MaxBatch = "max_batch";
    /// <summary>Context tokens per sequence (optional: see <see cref="TemplateValues.Context"/>).</summary>
    public const string Context = "context";
    /// <summary>The model name requests carry.</summary>
    public const string ServedModelName = "served_model_name";

    /// <summary>Every placeholder a template may use.</summary>
    public static IReadOnlyList<string> Placeholders { get; } = [Model, Host, Port, WorldSize, MaxBatch, Context, ServedModelName];

    /// <summary>Every problem with <paramref name="template"/>, each naming the argument; empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(IReadOnlyList<string> template)
    {
        var problems = new List<string>();
        if (template.Count == 0 || string.IsNullOrWhiteSpace(template[0]))
        {
            problems.Add("the command is empty: its first element must name the program");
        }
        foreach (var arg in template)
        {
            foreach (var (name, error) in Tokens(arg))
            {
                if (error is not null)
                {
                    problems.Add($"argument \"{arg}\": {error}");
                }
                else if (name is not null && !Placeholders.Contains(name))
                {
                    problems.Add($"argument \"{arg}\": unknown placeholder {{{name}}}; known: {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}");
                }
            }
        }
        return problems;
    }

    /// <summary>
    /// The command line for <paramref name="values"/>, then <paramref name="extraArgs"/>. An argument
    /// holding <c>{context}</c> when there is no context is dropped together with the flag before it
    /// (<c>--max-model-len {context}</c>). Throws <see cref="ArgumentException"/> for a template <see cref="Validate"/> refuses.
    /// </summary>
    public static IReadOnlyList<string> Expand(IReadOnlyList<string> template, TemplateValues values, IReadOnlyList<string>? extraArgs = null)
    {
        if (Validate(template) is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(template));
        }
        var args = new List<string>();
        foreach (var arg in template)
        {
            if (values.Context is null && Tokens(arg).Any(t => t.Name == Context))
            {
                if (args.Count > 1 && args[^1].StartsWith('-'))
                {
                    args.RemoveAt(args.Count - 1);
                }
                continue;
            }
            args.Add(Fill(arg, values));
        }
        args.AddRange(extraArgs ?? []);
        return args;
    }

    private static string Fill(string arg, TemplateValues v)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < arg.Length)
        {
            var open = arg.IndexOf('{', i);
            if (open < 0)
            {
                sb.Append(arg, i, arg.Length - i);
                break;
            }
            sb.Append(arg, i, open - i);
            var close = arg.IndexOf('}', open);
            sb.Append(Value(arg[(open + 1)..close], v));
            i = close + 1;
        }
        return sb.ToString();
    }

    private static string Value(string name, TemplateValues v) => name switch
    {
        Model => v.Model,
        Host => v.Host,
        Port => v.Port is { } port ? Int(port) : "{" + Port + "}",
        WorldSize => Int(v.WorldSize),
        MaxBatch => Int(v.MaxBatch),
        Context => v.Context is { } c ? Int(c) : "",
        ServedModelName => v.ServedModelName,
        _ => throw new ArgumentException($"unknown placeholder {{{name}}}"),
    };

    /// <summary>The placeholders of one argument, then the error that stopped reading it, if any.</summary>
    private static List<(string? Name, string? Error)> Tokens(string arg)
    {
        // A list, not an iterator: iterators read the thread ID from System.Environment, which Core keeps out of.
        var tokens = new List<(string? Name, string? Error)>();
        var i = 0;
        while (i < arg.Length)
        {
            var open = arg.IndexOfAny(['{', '}'], i);
            if (open < 0)
            {
                break;
            }
            if (arg[open] == '}')
            {
                tokens.Add((null, "a '}' without its '{'"));
                break;
            }
            var close = arg.IndexOfAny(['{', '}'], open + 1);
            if (close < 0 || arg[close] == '{')
            {
                tokens.Add((null, "a '{' without its '}'"));
                break;
            }
            tokens.Add((arg[(open + 1)..close], null));
            i = close + 1;
        }
        return tokens;
    }

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);
}
