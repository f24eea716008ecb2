using System.Globalization;

namespace Kiln.Runtime.Slurm;

/// <summary>One node as <c>sinfo</c> lists it.</summary>
/// <param name="Name">The node name (what <c>squeue</c> shows).</param>
/// <param name="Address">Its address (<c>NodeAddr</c>), where replicas on it are reached.</param>
/// <param name="Cpus">Its CPUs.</param>
/// <param name="Gpus">Its GPUs (the <c>gpu</c> gres, all types together).</param>
public sealed record SlurmNode(string Name, string Address, int Cpus, int Gpus)
{
    /// <summary>Its GPUs by gres type name (<c>h100</c>, <c>a100_80gb</c>; "" for GPUs listed without a type).</summary>
    public IReadOnlyDictionary<string, int> GpusByType { get; init; } = new Dictionary<string, int>();
}

/// <summary>The <c>sinfo</c> output format Kiln asks for, and its parser.</summary>
public static class SinfoFormat
{
    /// <summary>One line per node (and partition): name, address, CPUs, gres.</summary>
    public static IReadOnlyList<string> Arguments(string? partition) =>
        partition is null
            ? ["--noheader", "--Node", "--format=%N|%o|%c|%G"]
            : ["--noheader", "--Node", $"--partition={partition}", "--format=%N|%o|%c|%G"];

    /// <summary>Parses <see cref="Arguments"/>'s output: each node once (a node in two partitions is listed twice).</summary>
    public static IReadOnlyList<SlurmNode> Parse(string output)
    {
        var nodes = new Dictionary<string, SlurmNode>(StringComparer.Ordinal);
        foreach (var raw in output.Split('\n'))
        {
            var f = raw.Trim().Split('|');
            if (f.Length != 4 || f[0].Length == 0 || !int.TryParse(f[2].TrimEnd('+'), NumberStyles.None, CultureInfo.InvariantCulture, out var cpus))
            {
                continue;
            }
            nodes.TryAdd(f[0], new SlurmNode(f[0], f[1].Length > 0 ? f[1] : f[0], cpus, Gpus(f[3])) { GpusByType = GpusByType(f[3]) });
        }
        return [.. nodes.Values];
    }

    /// <summary>
    /// GPUs in a gres list: <c>gpu:8</c>, <c>gpu:a100:4(S:0-1)</c>, <c>gpu:a100:2,gpu:v100:2</c>,
    /// <c>(null)</c>; other gres (<c>mps:100</c>) do not count.
    /// </summary>
    public static int Gpus(string gres) => GpusByType(gres).Values.Sum();

    /// <summary>GPUs in a gres list by type name: <c>gpu:a100:2,gpu:v100:2</c> is a100 2 and v100 2; <c>gpu:8</c> is "" 8.</summary>
    public static IReadOnlyDictionary<string, int> GpusByType(string gres)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in SplitOutsideParentheses(gres))
        {
            var spec = item.Split('(')[0];
            var parts = spec.Split(':');
            if (parts[0] != "gpu" || parts.Length < 2)
            {
                continue;
            }
            if (int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                var type = parts.Length > 2 ? parts[1] : "";
                counts[type] = counts.GetValueOrDefault(type) + count;
            }
        }
        return counts;
    }

    private static IEnumerable<string> SplitOutsideParentheses(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth = Math.Max(0, depth - 1);
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }
        yield return text[start..];
    }
}
