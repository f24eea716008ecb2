using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Replicas;

namespace Kiln.Runtime.Slurm;

/// <summary>
/// What a replica's job runs (model file, world size, precision), kept in the job's comment so that
/// a restarted server knows whether an adopted job still runs the current spec, from <c>squeue</c> alone.
/// </summary>
public static class JobComment
{
    /// <summary>The comment for a launch; an engine other than Kiln's adds its name and health path.</summary>
    public static string Format(string modelPath, int worldSize, Precision precision, EngineLaunch? engine = null)
    {
        var fields = new Dictionary<string, object>
        {
            ["model"] = modelPath,
            ["worldSize"] = worldSize,
            ["precision"] = ReplicaArgs.KvCacheTypeName(precision),
        };
        if (engine is not null)
        {
            fields["engine"] = engine.Name;
            fields["health"] = engine.HealthPath;
        }
        return JsonSerializer.Serialize(fields);
    }

    /// <summary>The engine name and health path <see cref="Format"/> recorded, or null for Kiln's own replica (or another comment).</summary>
    public static (string Engine, string HealthPath)? Engine(string? comment)
    {
        if (comment is null || !comment.StartsWith('{'))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(comment);
            return doc.RootElement.TryGetProperty("engine", out var engine) && engine.ValueKind == JsonValueKind.String
                && doc.RootElement.TryGetProperty("health", out var health) && health.ValueKind == JsonValueKind.String
                ? (engine.GetString()!, health.GetString()!)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads <see cref="Format"/>'s comment; null for any other comment.</summary>
    public static (string ModelPath, int WorldSize, Precision Precision)? Parse(string? comment)
    {
        if (comment is null || !comment.StartsWith('{'))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(comment);
            var root = doc.RootElement;
            if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
                && root.TryGetProperty("worldSize", out var world) && world.TryGetInt32(out var worldSize)
                && root.TryGetProperty("precision", out var p) && ReplicaArgs.TryParseKvCacheType(p.GetString(), out var precision))
            {
                return (model.GetString()!, worldSize, precision);
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
