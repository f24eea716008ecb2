using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of the server's engine profiles.</summary>
public static class EngineText
{
    public static string RenderTable(JsonObject list)
    {
        var table = new Table("NAME", "FORMATS", "ADDONS", "SPECULATION", "COMMAND");
        var defaultEngine = Json.Str(list, "defaultEngine");
        foreach (var e in Json.Objects(list, "engines"))
        {
            var name = Json.Str(e, "name");
            table.Add(name == defaultEngine ? $"{name} (default)" : name,
                Strings(e, "modelFormats"),
                Json.Str(e, "addons.supported") == "true" ? "yes" : "no",
                Json.Str(e, "speculation") == "true" ? "yes" : "no",
                string.Join(' ', Json.At(e, "command") is JsonArray argv ? argv.Select(a => a?.GetValue<string>()) : []));
        }
        return table.ToString();
    }

    private static string Strings(JsonObject e, string path) =>
        Json.At(e, path) is JsonArray values ? string.Join(",", values.Select(v => v?.GetValue<string>())) : "";
}
