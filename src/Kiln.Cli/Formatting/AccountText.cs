using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of accounts and API keys.</summary>
public static class AccountText
{
    public static string RenderAccount(JsonObject a)
    {
        var block = new KeyValueBlock()
            .Add("Name", Json.Str(a, "name"))
            .Add("Display Name", Json.Str(a, "displayName"))
            .Add("Tier", Json.Str(a, "tier"));
        if (Json.Str(a, "spendLimit") is { Length: > 0 } limit)
            block.Add("Spend Limit", limit);
        return block.Add("Create Time", Json.Time(a, "createTime")).ToString();
    }

    /// <summary>A key just created: the secret is shown this once, so say so.</summary>
    public static string RenderNewKey(JsonObject k)
    {
        var block = new KeyValueBlock()
            .Add("Key ID", Json.Str(k, "keyId"))
            .Add("Key", Json.Str(k, "key"));
        if (Json.Str(k, "displayName") is { Length: > 0 } name)
            block.Add("Display Name", name);
        if (Json.Time(k, "createTime") is { Length: > 0 } time)
            block.Add("Create Time", time);
        return block + "The key is shown only once: store it now.\n";
    }

    public static string RenderKeyTable(IEnumerable<JsonObject> keys)
    {
        var table = new Table("KEY ID", "DISPLAY NAME", "CREATE TIME", "LAST USE TIME");
        foreach (var k in keys)
            table.Add(Json.Str(k, "keyId"), Json.Str(k, "displayName"), Json.Time(k, "createTime"), Json.Time(k, "lastUseTime"));
        return table.ToString();
    }
}
