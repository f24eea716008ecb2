using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of deployments: firectl's aligned fields for one, a table for many.</summary>
public static class DeploymentText
{
    private const int MaxEvents = 10;

    public static string Render(JsonObject d)
    {
        var block = new KeyValueBlock()
            .Add("Name", Json.Str(d, "name"))
            .Add("Display Name", Json.Str(d, "displayName"));
        AddIfPresent(block, "Description", Json.Str(d, "description"));
        block.Add("Create Time", Json.Time(d, "createTime"))
            .Add("Update Time", Json.Time(d, "updateTime"));
        AddIfPresent(block, "Delete Time", Json.Time(d, "deleteTime"));
        // firectl always shows these two; an empty value says "never expires" / "unknown creator".
        block.Add("Expire Time", Json.Time(d, "expireTime"))
            .Add("Created By", Json.Str(d, "createdBy"))
            .Add("State", Json.Str(d, "state"))
            .Add("Status", Status(d))
            .Add("Base Model", Json.Str(d, "baseModel"))
            .Add("Min Replica Count", Count(d, "minReplicaCount"))
            .Add("Max Replica Count", Count(d, "maxReplicaCount"))
            .Add("Desired Replica Count", Count(d, "desiredReplicaCount"))
            .Add("Replica Count", Count(d, "replicaCount"))
            .Section("Replica Stats")
            .Add("Pending Scheduling", Count(d, "replicaStats.pendingSchedulingReplicaCount"), 1)
            .Add("Downloading Model", Count(d, "replicaStats.downloadingModelReplicaCount"), 1)
            .Add("Initializing", Count(d, "replicaStats.initializingReplicaCount"), 1)
            .Add("Ready", Count(d, "replicaStats.readyReplicaCount"), 1)
            .Section("Autoscaling Policy")
            .Add("Scale Up Window", ApiDuration.ToGo(Json.Str(d, "autoscalingPolicy.scaleUpWindow")), 1)
            .Add("Scale Down Window", ApiDuration.ToGo(Json.Str(d, "autoscalingPolicy.scaleDownWindow")), 1)
            .Add("Scale To Zero Window", ApiDuration.ToGo(Json.Str(d, "autoscalingPolicy.scaleToZeroWindow")), 1)
            .Add("Load Targets", LoadTargets(d), 1)
            .Add("Accelerator Type", Json.Str(d, "acceleratorType"))
            .Add("Accelerator Count", Count(d, "acceleratorCount"))
            .Add("Precision", Json.Str(d, "precision"))
            .Add("Engine", Engine(d))
            .Add("Unused Auto Delete Duration", AutoDelete(Json.Str(d, "unusedAutoDeleteDuration")))
            .Add("Enable Addons", Json.Str(d, "enableAddons") is "true" ? "true" : "false");
        AddIfPresent(block, "Max Addon Count", Json.Str(d, "maxAddonCount"));
        AddIfPresent(block, "Deployment Shape", Json.Str(d, "deploymentShape"));
        AddIfPresent(block, "Max Batch Size", Json.Str(d, "maxBatchSize"));
        AddIfPresent(block, "Max Context Length", Json.Str(d, "maxContextLength"));
        AddIfPresent(block, "Prefix Cache MB", Json.Str(d, "prefixCacheMb"));
        AddIfPresent(block, "Draft Model", Json.Str(d, "draftModel"));
        AddIfPresent(block, "Draft Token Count", Json.Str(d, "draftTokenCount"));
        AddIfPresent(block, "Ngram Speculation Length", Json.Str(d, "ngramSpeculationLength"));
        AddIfPresent(block, "Last Request Time", Json.Time(d, "lastRequestTime"));

        var replicas = Json.Objects(d, "replicas").ToList();
        if (replicas.Count > 0)
        {
            block.Section("Replicas");
            foreach (var r in replicas)
                block.Line(Replica(r), 1);
        }

        var events = Json.Objects(d, "events").ToList();
        if (events.Count > 0)
        {
            block.Section("Events");
            var recent = events.Skip(Math.Max(0, events.Count - MaxEvents)).ToList();
            var typeWidth = recent.Max(e => Json.Str(e, "type").Length);
            foreach (var e in recent)
                block.Line($"{Json.Time(e, "time")}  {Json.Str(e, "type").PadRight(typeWidth)}  {Json.Str(e, "message")}".TrimEnd(), 1);
        }
        return block.ToString();
    }

    public static string RenderTable(IEnumerable<JsonObject> deployments)
    {
        var table = new Table("NAME", "STATE", "REPLICAS", "ENGINE", "BASE MODEL", "CREATE TIME");
        foreach (var d in deployments)
        {
            table.Add(Json.Str(d, "name"), Json.Str(d, "state"), Replicas(d), Engine(d),
                Json.Str(d, "baseModel"), Json.Time(d, "createTime"));
        }
        return table.ToString();
    }

    /// <summary>"ready/desired" replicas, as in the list table.</summary>
    public static string Replicas(JsonObject d) =>
        $"{Json.Long(d, "replicaCount") ?? 0}/{Json.Long(d, "desiredReplicaCount") ?? 0}";

    /// <summary>"r-abc  READY  127.0.0.1:41234 (pid 1234)  devices GPU-a,GPU-b  pending: reason".</summary>
    private static string Replica(JsonObject r)
    {
        var parts = new List<string> { Json.Str(r, "replicaId"), Json.Str(r, "phase") };
        var host = Json.Str(r, "host");
        var port = Json.Str(r, "port");
        var where = host.Length > 0 && port.Length > 0 ? $"{host}:{port}" : "";
        var handle = Json.Str(r, "pid") is { Length: > 0 } pid ? $"pid {pid}" : Json.Str(r, "slurmJobId") is { Length: > 0 } job ? $"Slurm job {job}" : "";
        if (where.Length > 0 || handle.Length > 0)
            parts.Add(where.Length > 0 && handle.Length > 0 ? $"{where} ({handle})" : where + handle);
        var devices = Json.At(r, "devices") is JsonArray list ? string.Join(",", list.Select(x => x?.GetValue<string>())) : "";
        if (devices.Length > 0)
            parts.Add($"devices {devices}");
        if (Json.Str(r, "pendingReason") is { Length: > 0 } pending)
            parts.Add($"pending: {pending}");
        if (Json.Str(r, "lastError") is { Length: > 0 } error)
            parts.Add($"last error: {error}");
        return string.Join("  ", parts);
    }

    public static string Status(JsonObject d)
    {
        var code = Json.Str(d, "status.code");
        var message = Json.Str(d, "status.message");
        return (code.Length > 0, message.Length > 0) switch
        {
            (true, true) => $"{code}: {message}",
            (true, false) => code,
            _ => message,
        };
    }

    /// <summary>The engine and its extra arguments, e.g. "vllm --enforce-eager"; "kiln" when a server predates engines.</summary>
    private static string Engine(JsonObject d)
    {
        var engine = Json.Str(d, "engine") is { Length: > 0 } e ? e : "kiln";
        var args = Json.At(d, "engineArgs") is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToList() : [];
        return args.Count == 0 ? engine : $"{engine} {string.Join(' ', args)}";
    }

    private static string Count(JsonObject d, string path) => (Json.Long(d, path) ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string AutoDelete(string value)
    {
        var go = ApiDuration.ToGo(value);
        return go == "0s" ? "0s (disabled)" : go;
    }

    private static string LoadTargets(JsonObject d) =>
        Json.At(d, "autoscalingPolicy.loadTargets") is JsonObject targets
            ? string.Join(", ", targets.Select(t => $"{t.Key}={t.Value?.ToJsonString()}"))
            : "";

    private static void AddIfPresent(KeyValueBlock block, string key, string value)
    {
        if (value.Length > 0)
            block.Add(key, value);
    }
}
