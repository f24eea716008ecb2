using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of deployment shape versions.</summary>
public static class ShapeText
{
    public static string RenderTable(IEnumerable<JsonObject> versions)
    {
        var table = new Table("NAME", "PRESET", "ACCELERATOR", "PRECISION", "ENGINE", "MAX BATCH", "CONTEXT", "PREFIX CACHE MB", "FITS");
        foreach (var v in versions)
        {
            table.Add(Json.Str(v, "name"), Json.Str(v, "snapshot.presetType"), Accelerator(v), Json.Str(v, "snapshot.precision"),
                Json.Str(v, "snapshot.engine"), Json.Str(v, "snapshot.maxBatchSize"), Json.Str(v, "snapshot.maxContextLength"),
                Json.Str(v, "snapshot.prefixCacheMb"), Fits(v));
        }
        return table.ToString();
    }

    public static string Render(JsonObject v)
    {
        var block = new KeyValueBlock()
            .Add("Name", Json.Str(v, "name"))
            .Add("Create Time", Json.Time(v, "createTime"))
            .Add("Display Name", Json.Str(v, "snapshot.displayName"))
            .Add("Description", Json.Str(v, "snapshot.description"))
            .Add("Preset Type", Json.Str(v, "snapshot.presetType"))
            .Add("Fits", Fits(v))
            .Add("Accelerator Type", Json.Str(v, "snapshot.acceleratorType"))
            .Add("Accelerator Count", Json.Str(v, "snapshot.acceleratorCount"))
            .Add("Precision", Json.Str(v, "snapshot.precision"))
            .Add("Engine", Json.Str(v, "snapshot.engine"));
        foreach (var (label, field) in new[]
                 {
                     ("Max Batch Size", "maxBatchSize"), ("Max Context Length", "maxContextLength"), ("Prefix Cache MB", "prefixCacheMb"),
                     ("Enable Addons", "enableAddons"), ("Draft Model", "draftModel"), ("Draft Token Count", "draftTokenCount"),
                     ("Ngram Speculation Length", "ngramSpeculationLength"), ("Model Type", "modelType"), ("Parameter Count", "parameterCount"),
                 })
        {
            if (Json.Str(v, "snapshot." + field) is { Length: > 0 } value)
                block.Add(label, value);
        }
        return block.ToString();
    }

    private static string Accelerator(JsonObject v) => $"{Json.Str(v, "snapshot.acceleratorType")} x{Json.Str(v, "snapshot.acceleratorCount")}";

    // What the shape serves: one model, or architectures up to a size.
    private static string Fits(JsonObject v)
    {
        if (Json.Str(v, "snapshot.baseModel") is { Length: > 0 } model)
            return model;
        var arch = Json.At(v, "snapshot.architectures") is JsonArray { Count: > 0 } a ? string.Join("/", a.Select(x => x?.GetValue<string>())) : "any";
        var max = Json.Str(v, "snapshot.maxModelSizeMb");
        var min = Json.Str(v, "snapshot.minModelSizeMb");
        return arch + (min.Length > 0 ? $" >= {min} MiB" : "") + (max.Length > 0 ? $" <= {max} MiB" : "");
    }
}
