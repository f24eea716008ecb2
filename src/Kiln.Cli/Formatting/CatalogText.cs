using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of catalog entries.</summary>
public static class CatalogText
{
    public static string RenderTable(IEnumerable<JsonObject> entries)
    {
        var table = new Table("ID", "NAME", "QUANT", "SIZE", "CONTEXT", "CHAT", "LICENSE");
        foreach (var e in entries)
        {
            table.Add(Json.Str(e, "id"), Json.Str(e, "name"), Json.Str(e, "quantization"), Size(e),
                Json.Str(e, "contextLength"), Json.Str(e, "chatTemplate") == "true" ? "yes" : "no", Json.Str(e, "license"));
        }
        return table.ToString();
    }

    public static string Render(JsonObject e)
    {
        var block = new KeyValueBlock()
            .Add("ID", Json.Str(e, "id"))
            .Add("Name", Json.Str(e, "name"))
            .Add("Description", Json.Str(e, "description"))
            .Add("Source", Json.Str(e, "source"))
            .Add("Quantization", Json.Str(e, "quantization"))
            .Add("Architecture", Json.Str(e, "architecture"))
            .Add("Size", Size(e))
            .Add("Context Length", Json.Str(e, "contextLength"))
            .Add("Chat Template", Json.Str(e, "chatTemplate") == "true" ? "yes" : "no")
            .Add("License", Json.Str(e, "license"))
            .Add("SHA-256", Json.Str(e, "sha256") is { Length: > 0 } sha ? sha : "(checked against the digest the source publishes)");
        if (Json.At(e, "unverified") is JsonArray { Count: > 0 } unverified)
            block.Add("Unverified", string.Join(", ", unverified.Select(v => v?.GetValue<string>())));
        return block.ToString();
    }

    private static string Size(JsonObject e) =>
        Json.Long(e, "sizeBytes") is { } bytes
            ? (Json.Str(e, "sizeIsApproximate") == "true" ? "~" : "") + ByteSize.Format(bytes)
            : "";
}
