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
        block.Add("State", Json.Str(m, "state"));
        if (Status(m) is { Length: > 0 } status)
            block.Add("Status", status);
        if (Json.Str(m, "source") is { Length: > 0 } source)
            block.Add("Source", source);
        if (Json.Str(m, "state") == "DOWNLOADING")
            block.Add("Download", Download(m));
        block
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

    /// <summary>"CODE: message", or the message alone when the code is OK; empty without a status.</summary>
    public static string Status(JsonObject m)
    {
        var message = Json.Str(m, "status.message");
        var code = Json.Str(m, "status.code");
        return code is "" or "OK" ? message : $"{code}: {message}";
    }

    /// <summary>A download's progress: "12.5 MB of 19.0 MB (65%), 3.2 MB/s, 4s left" (parts the server does not know yet are left out).</summary>
    public static string Download(JsonObject m)
    {
        var bytes = Json.Long(m, "download.receivedBytes") ?? 0;
        var text = ByteSize.Format(bytes);
        if (Json.Long(m, "download.totalBytes") is { } total and > 0)
            text += string.Create(CultureInfo.InvariantCulture, $" of {ByteSize.Format(total)} ({Math.Floor(100.0 * Math.Min(bytes, total) / total):0}%)");
        if (Json.Long(m, "download.bytesPerSecond") is { } rate)
            text += $", {ByteSize.Format(rate)}/s";
        if (Json.Str(m, "download.eta") is { Length: > 0 } eta)
            text += $", {ApiDuration.ToGo(eta)} left";
        return text;
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
