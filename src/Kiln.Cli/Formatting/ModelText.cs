using System.Globalization;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of models: aligned fields (with the deployments serving it) or a table.</summary>
public static class ModelText
{
    public static string Render(JsonObject m)
    {
        var block = new KeyValueBlock()
            .Add("Name", Json.Str(m, "name"))
            .Add("Display Name", Json.Str(m, "displayName"))
            .Add("Kind", Json.Str(m, "kind"));
        if (Json.Str(m, "format") is { Length: > 0 } format)
            block.Add("Format", format);
        block.Add("State", Json.Str(m, "state"))
            .Add("Architecture", Json.Str(m, "architecture"))
            .Add("Context Length", Json.Str(m, "contextLength"))
            .Add("Size", Size(m, withBytes: true))
            .Add("SHA-256", Json.Str(m, "sha256"));
        if (Json.Str(m, "baseModel") is { Length: > 0 } baseModel)
            block.Add("Base Model", baseModel);
        block.Add("Create Time", Json.Time(m, "createTime"))
            .Add("Update Time", Json.Time(m, "updateTime"));

        var refs = Json.Objects(m, "deployedModelRefs").ToList();
        if (refs.Count > 0)
        {
            block.Section("Deployments");
            var width = refs.Max(r => Json.Str(r, "deployment").Length);
            foreach (var r in refs)
                block.Line($"{Json.Str(r, "deployment").PadRight(width)}  {Json.Str(r, "state")}".TrimEnd(), 1);
        }
        return block.ToString();
    }

    public static string RenderTable(IEnumerable<JsonObject> models)
    {
        var table = new Table("NAME", "KIND", "STATE", "SIZE", "CREATE TIME");
        foreach (var m in models)
        {
            table.Add(Json.Str(m, "name"), Json.Str(m, "kind"), Json.Str(m, "state"),
                Size(m, withBytes: false), Json.Time(m, "createTime"));
        }
        return table.ToString();
    }

    private static string Size(JsonObject m, bool withBytes)
    {
        if (Json.Long(m, "sizeBytes") is not { } bytes)
            return "";
        var human = ByteSize.Format(bytes);
        return withBytes && bytes >= 1000
            ? $"{human} ({bytes.ToString(CultureInfo.InvariantCulture)} bytes)"
            : human;
    }
}
