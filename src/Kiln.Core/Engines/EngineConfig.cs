using System.Text.Json;
using Kiln.Core.Time;

namespace Kiln.Core.Engines;

/// <summary>
/// Reads the <c>engines</c> section of <c>kiln server --config</c>: each entry changes a built-in
/// profile (fields it gives replace the built-in's) or adds a custom one (a <c>command</c> is then
/// required). Every problem is reported at once, each with its JSON path, so a server never starts
/// with a profile that would fail at a replica's start.
/// </summary>
/// <remarks>
/// <code>
/// { "engines": { "vllm": { "readinessTimeout": "30m", "environment": { "HF_HUB_OFFLINE": "1" } },
///                "my-engine": { "command": ["/opt/bin/serve", "{model}", "--port", "{port}"], "modelFormats": ["GGUF"] } } }
/// </code>
/// </remarks>
public static class EngineConfig
{
    private static readonly string[] Fields =
    [
        "command", "environment", "addonArguments", "addonEnvironment", "healthPath", "readinessTimeout", "modelFormats",
        "maxBatch", "context", "metrics", "addons",
    ];

    /// <summary>The catalog a configuration document describes, or every problem with it.</summary>
    public static bool TryParse(JsonElement root, out EngineCatalog catalog, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        problems = found;
        catalog = EngineCatalog.Default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            found.Add("the configuration must be a JSON object");
            return false;
        }
        if (!root.TryGetProperty("engines", out var engines))
        {
            return true;
        }
        if (engines.ValueKind != JsonValueKind.Object)
        {
            found.Add("engines: must be an object of profiles by name");
            return false;
        }
        var profiles = EngineProfiles.BuiltIn.ToDictionary(p => p.Name);
        foreach (var entry in engines.EnumerateObject())
        {
            var path = $"engines.{entry.Name}";
            if (!EngineCatalog.IsValidName(entry.Name))
            {
                found.Add($"{path}: an engine name is lowercase letters, digits and '-', starting with a letter (at most 63)");
                continue;
            }
            if (entry.Name == EngineProfiles.KilnName)
            {
                found.Add($"{path}: \"kiln\" is Kiln's own engine and cannot be changed; add a custom profile under another name");
                continue;
            }
            if (entry.Value.ValueKind != JsonValueKind.Object)
            {
                found.Add($"{path}: must be an object");
                continue;
            }
            var start = profiles.GetValueOrDefault(entry.Name) ?? new EngineProfile { Name = entry.Name };
            if (!profiles.ContainsKey(entry.Name) && !entry.Value.TryGetProperty("command", out _))
            {
                found.Add($"{path}.command: a custom engine needs its command, e.g. [\"/opt/bin/serve\", \"{{model}}\", \"--port\", \"{{port}}\"]");
            }
            profiles[entry.Name] = Profile(start, entry.Value, path, found);
        }
        if (found.Count > 0)
        {
            return false;
        }
        catalog = new EngineCatalog(profiles.Values);
        return true;
    }

    private static EngineProfile Profile(EngineProfile p, JsonElement o, string path, List<string> found)
    {
        foreach (var f in o.EnumerateObject())
        {
            var at = $"{path}.{f.Name}";
            var v = f.Value;
            switch (f.Name)
            {
                case "command":
                    if (Strings(v, at, found) is { } command)
                    {
                        foreach (var problem in CommandTemplate.Validate(command))
                        {
                            found.Add($"{at}: {problem}");
                        }
                        p = p with { Command = command };
                    }
                    break;
                case "addonArguments":
                    p = p with { AddonArguments = Strings(v, at, found) ?? p.AddonArguments };
                    break;
                case "environment":
                    p = p with { Environment = Map(v, at, found) ?? p.Environment };
                    break;
                case "addonEnvironment":
                    p = p with { AddonEnvironment = Map(v, at, found) ?? p.AddonEnvironment };
                    break;
                case "healthPath":
                    if (Text(v, at, found) is { } health)
                    {
                        if (!health.StartsWith('/') || health.Contains(' '))
                        {
                            found.Add($"{at}: must be a path starting with '/', got \"{health}\"");
                        }
                        p = p with { HealthPath = health };
                    }
                    break;
                case "readinessTimeout":
                    if (Text(v, at, found) is { } timeout)
                    {
                        if (!GoDuration.TryParse(timeout, out var d, out var error) || d <= TimeSpan.Zero)
                        {
                            found.Add($"{at}: {error ?? $"must be positive, got {timeout}"}");
                        }
                        p = p with { ReadinessTimeout = d };
                    }
                    break;
                case "modelFormats":
                    if (Strings(v, at, found) is { } names)
                    {
                        var formats = new List<ModelFormat>();
                        foreach (var n in names)
                        {
                            if (ModelFormats.TryParse(n, out var format))
                            {
                                formats.Add(format);
                            }
                            else
                            {
                                found.Add($"{at}: unknown model format \"{n}\"; known: {string.Join(", ", ModelFormats.WireNames)}");
                            }
                        }
                        if (formats.Count == 0 && names.Count == 0)
                        {
                            found.Add($"{at}: must name at least one format");
                        }
                        p = p with { ModelFormats = formats };
                    }
                    break;
                case "maxBatch":
                    p = p with { MaxBatch = Number(v, at, found) ?? p.MaxBatch };
                    break;
                case "context":
                    p = p with { Context = v.ValueKind == JsonValueKind.Null ? null : Number(v, at, found) ?? p.Context };
                    break;
                case "metrics":
                    p = p with { Metrics = Metrics(p.Metrics, v, at, found) };
                    break;
                case "addons":
                    p = p with { Addons = Addons(v, at, found) ?? p.Addons };
                    break;
                default:
                    found.Add($"{at}: unknown field; known: {string.Join(", ", Fields)}");
                    break;
            }
        }
        return p;
    }

    private static EngineMetricNames Metrics(EngineMetricNames m, JsonElement v, string path, List<string> found)
    {
        if (v.ValueKind != JsonValueKind.Object)
        {
            found.Add($"{path}: must be an object such as {{\"running\": [\"vllm:num_requests_running\"]}}");
            return m;
        }
        foreach (var f in v.EnumerateObject())
        {
            var at = $"{path}.{f.Name}";
            var names = Strings(f.Value, at, found);
            if (names is null)
            {
                continue;
            }
            m = f.Name switch
            {
                "running" => m with { Running = names },
                "waiting" => m with { Waiting = names },
                "kvCacheUsage" => m with { KvCacheUsage = names },
                "batchOccupancy" => m with { BatchOccupancy = names },
                "generatedTokens" => m with { GeneratedTokens = names },
                "promptTokens" => m with { PromptTokens = names },
                _ => Unknown(m, at, found),
            };
        }
        return m;
    }

    private static EngineMetricNames Unknown(EngineMetricNames m, string at, List<string> found)
    {
        found.Add($"{at}: unknown signal; known: running, waiting, kvCacheUsage, batchOccupancy, generatedTokens, promptTokens");
        return m;
    }

    private static AddonSupport? Addons(JsonElement v, string path, List<string> found)
    {
        if (v.ValueKind != JsonValueKind.Object)
        {
            found.Add($"{path}: must be an object: {{\"protocol\": \"lora-endpoints\", \"load\": ..., \"unload\": ...}}, {{\"protocol\": \"kiln\"}} or {{\"protocol\": \"none\", \"reason\": ...}}");
            return null;
        }
        string? Field(string name) => v.TryGetProperty(name, out var e) ? Text(e, $"{path}.{name}", found) : null;
        foreach (var f in v.EnumerateObject().Where(f => f.Name is not ("protocol" or "load" or "unload" or "list" or "reason")))
        {
            found.Add($"{path}.{f.Name}: unknown field; known: protocol, load, unload, list, reason");
        }
        switch (Field("protocol"))
        {
            case "kiln":
                return AddonSupport.Kiln;
            case "none":
                return AddonSupport.Unsupported(Field("reason") ?? "the engine's profile says it cannot load addons at runtime");
            case "lora-endpoints":
                var (load, unload) = (Field("load"), Field("unload"));
                if (load is null || unload is null)
                {
                    found.Add($"{path}: protocol lora-endpoints needs \"load\" and \"unload\" paths");
                    return null;
                }
                return new AddonSupport(AddonProtocol.LoraEndpoints, load, unload, Field("list") ?? "/v1/models");
            case var other:
                found.Add($"{path}.protocol: must be \"kiln\", \"lora-endpoints\" or \"none\", got {(other is null ? "nothing" : $"\"{other}\"")}");
                return null;
        }
    }

    private static string? Text(JsonElement v, string at, List<string> found)
    {
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }
        found.Add($"{at}: must be a string");
        return null;
    }

    private static int? Number(JsonElement v, string at, List<string> found)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 1)
        {
            return n;
        }
        found.Add($"{at}: must be a whole number of at least 1");
        return null;
    }

    private static IReadOnlyList<string>? Strings(JsonElement v, string at, List<string> found)
    {
        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return [.. v.EnumerateArray().Select(e => e.GetString()!)];
        }
        found.Add($"{at}: must be an array of strings");
        return null;
    }

    private static IReadOnlyDictionary<string, string>? Map(JsonElement v, string at, List<string> found)
    {
        if (v.ValueKind == JsonValueKind.Object && v.EnumerateObject().All(e => e.Value.ValueKind == JsonValueKind.String))
        {
            return v.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetString()!);
        }
        found.Add($"{at}: must be an object of strings");
        return null;
    }
}
