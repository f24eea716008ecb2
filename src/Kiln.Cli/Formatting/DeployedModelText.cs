using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of deployed models (addons on deployments).</summary>
public static class DeployedModelText
{
    public static string Render(JsonObject d)
    {
        var block = new KeyValueBlock()
            .Add("Name", Json.Str(d, "name"))
            .Add("Model", Json.Str(d, "model"))
            .Add("Deployment", Json.Str(d, "deployment"))
            .Add("State", Json.Str(d, "state"));
        if (Json.Str(d, "status.code") is { Length: > 0 } code)
            block.Add("Status", $"{code}: {Json.Str(d, "status.message")}");
        return block
            .Add("Create Time", Json.Time(d, "createTime"))
            .Add("Update Time", Json.Time(d, "updateTime"))
            .ToString();
    }

    public static string RenderTable(IEnumerable<JsonObject> items)
    {
        var table = new Table("NAME", "MODEL", "DEPLOYMENT", "STATE", "STATUS");
        foreach (var d in items)
            table.Add(Json.Str(d, "name"), Json.Str(d, "model"), Json.Str(d, "deployment"), Json.Str(d, "state"), Json.Str(d, "status.code"));
        return table.ToString();
    }
}
