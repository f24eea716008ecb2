using Kiln.Core.Time;
using System.Globalization;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// Parses flag values the way kilnctl documents them. Every message starts with the flag's name
/// and says what is allowed, so a user never has to guess which value was wrong.
/// </summary>
public static class FlagValues
{
    public static IReadOnlyList<string> AcceleratorTypes => Kiln.Core.Deployments.AcceleratorTypes.WireNames;

    public static IReadOnlyList<string> Precisions => Kiln.Core.Deployments.Precisions.WireNames;

    /// <summary>A non-negative Go duration, in nanoseconds.</summary>
    public static long Duration(string flag, string text)
    {
        if (!GoDuration.TryParseNanoseconds(text.Trim(), out var ns, out _))
            throw new UsageException($"{flag}: invalid duration \"{text}\" (use Go duration syntax such as 30s, 10m, 1h30m)");
        if (ns < 0)
            throw new UsageException($"{flag}: duration must not be negative, got \"{text}\"");
        return ns;
    }

    public static int Count(string flag, string text)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n < 0)
            throw new UsageException($"{flag}: invalid value \"{text}\" (expected a non-negative integer)");
        return n;
    }

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static int Between(string flag, string text, int min, int max)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw new UsageException($"{flag}: invalid value \"{text}\" (expected an integer from {min} to {max})");
        return n;
    }

    /// <summary>A speculation count: 0 (turns it off on update) up to <paramref name="max"/>.</summary>
    public static int UpTo(string flag, string text, int max)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > max)
            throw new UsageException($"{flag}: invalid value \"{text}\" (expected an integer from 0 to {max}; 0 turns it off)");
        return n;
    }

    public static string AcceleratorType(string flag, string text) => WireName(flag, text, "accelerator type", AcceleratorTypes);

    public static string Precision(string flag, string text) => WireName(flag, text, "precision", Precisions);

    /// <summary>Accelerators per replica: 1, 2, 4 or 8, as tensor-parallel shards must divide evenly.</summary>
    public static int WorldSize(string flag, string text)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || n is < 1 or > 8 || (n & (n - 1)) != 0)
            throw new UsageException($"{flag}: invalid value \"{text}\" (expected a power of two from 1 to 8: 1, 2, 4 or 8)");
        return n;
    }

    /// <summary>
    /// <c>key=value,...</c> as firectl's --load-targets takes them (e.g. <c>default=0.8,requests_per_second=20</c>);
    /// the server checks the keys and ranges.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject LoadTargets(string flag, string text)
    {
        var targets = new System.Text.Json.Nodes.JsonObject();
        foreach (var pair in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
                throw new UsageException($"{flag}: expected key=value pairs separated by commas (e.g. default=0.8,requests_per_second=20), got \"{pair}\"");
            var key = pair[..eq].Trim();
            if (!double.TryParse(pair[(eq + 1)..].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                throw new UsageException($"{flag}: the value of {key} must be a number, got \"{pair[(eq + 1)..].Trim()}\"");
            if (targets.ContainsKey(key))
                throw new UsageException($"{flag}: {key} is given twice");
            targets[key] = value;
        }
        return targets;
    }

    public static double NonNegativeNumber(string flag, string text)
    {
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            || x < 0 || !double.IsFinite(x))
            throw new UsageException($"{flag}: invalid value \"{text}\" (expected a non-negative number)");
        return x;
    }

    /// <summary>An upper-case wire name, typed in any case.</summary>
    private static string WireName(string flag, string text, string what, IReadOnlyList<string> allowed)
    {
        var normalized = text.Trim().ToUpperInvariant();
        if (!allowed.Contains(normalized))
            throw new UsageException($"{flag}: unknown {what} \"{text}\" (allowed: {string.Join(", ", allowed)})");
        return normalized;
    }

    public static string OneOf(string flag, string text, params string[] allowed)
    {
        var normalized = text.Trim().ToLowerInvariant();
        if (!allowed.Contains(normalized))
            throw new UsageException($"{flag}: invalid value \"{text}\" (allowed: {string.Join(", ", allowed)})");
        return normalized;
    }
}
