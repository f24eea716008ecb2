using Kiln.Core.Errors;
using Kiln.Core.Replicas;

namespace Kiln.Core.Deployments;

/// <summary>The ranges of a deployment's (and a shape's) engine settings, as a Kiln replica accepts them.</summary>
public static class ServingLimits
{
    /// <summary>Most sequences a replica decodes together.</summary>
    public const int MaxBatchSize = 1024;

    /// <summary>Longest context per sequence.</summary>
    public const int MaxContextLength = 1 << 20;

    /// <summary>Adds a violation (at <paramref name="prefix"/> + field name) for each setting out of range.</summary>
    public static void Validate(List<FieldViolation> v, string prefix, int? maxBatchSize, int? maxContextLength, int? prefixCacheMb)
    {
        if (maxBatchSize is { } b and (< 1 or > MaxBatchSize))
        {
            v.Add(new(prefix + "maxBatchSize", $"must be between 1 and {MaxBatchSize}, got {b}"));
        }
        if (maxContextLength is { } c and (< 1 or > MaxContextLength))
        {
            v.Add(new(prefix + "maxContextLength", $"must be between 1 and {MaxContextLength}, got {c}"));
        }
        if (prefixCacheMb is { } m and (< 0 or > ReplicaArgs.MaxPrefixCacheMb))
        {
            v.Add(new(prefix + "prefixCacheMb", $"must be between 0 (off) and {ReplicaArgs.MaxPrefixCacheMb}, got {m}"));
        }
    }
}
