using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>The text form of <c>GET /v1/accelerators</c>: one row per node and type, then each device and its holder.</summary>
public static class AcceleratorText
{
    public static string Render(JsonNode inventory)
    {
        var table = new Table("NODE", "TYPE", "COUNT", "FREE", "MEMORY", "HELD BY");
        var devices = new Table("NODE", "TYPE", "DEVICE", "INDEX", "NAME", "HELD BY");
        var anyDevice = false;
        foreach (var node in Json.Objects(inventory, "nodes"))
        {
            foreach (var pool in Json.Objects(node, "accelerators"))
            {
                var holders = Json.Objects(pool, "replicas")
                    .Select(r => $"{Short(Json.Str(r, "replica"))} ({Json.Long(r, "count")})");
                table.Add(Json.Str(node, "node"), Json.Str(pool, "acceleratorType"), Json.Str(pool, "count"), Json.Str(pool, "free"),
                    Memory(Json.Long(pool, "memoryMiB")), string.Join(", ", holders));
                foreach (var d in Json.Objects(pool, "devices"))
                {
                    var holder = Json.Str(d, "replica") is { Length: > 0 } r ? Short(r) : Json.Str(d, "held") == "true" ? "(another account)" : "-";
                    anyDevice = true;
                    devices.Add(Json.Str(node, "node"), Json.Str(pool, "acceleratorType"), Json.Str(d, "id"), Json.Str(d, "index"), Json.Str(d, "name"), holder);
                }
            }
        }
        var sb = new StringBuilder();
        sb.Append("Source: ").Append(Json.Str(inventory, "source"))
            .Append("; default accelerator type: ").Append(Json.Str(inventory, "defaultAcceleratorType")).Append('\n');
        sb.Append(table);
        if (anyDevice)
            sb.Append('\n').Append(devices);
        if (Json.At(inventory, "warnings") is JsonArray { Count: > 0 } warnings)
        {
            sb.Append('\n');
            foreach (var w in warnings)
                sb.Append("warning: ").Append(w?.GetValue<string>()).Append('\n');
        }
        return sb.ToString();
    }

    // accounts/A/deployments/D/replicas/R reads as A/D/R in a table.
    private static string Short(string name)
    {
        var p = name.Split('/');
        return p.Length == 6 && p[0] == "accounts" && p[2] == "deployments" && p[4] == "replicas" ? $"{p[1]}/{p[3]}/{p[5]}" : name;
    }

    private static string Memory(long? mib) =>
        mib is { } m ? (m / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " GiB" : "";
}
