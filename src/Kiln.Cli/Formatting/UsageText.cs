using System.Globalization;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>Text output of <c>get usage</c>: totals, then a table per deployment and per API key.</summary>
public static class UsageText
{
    public static string Render(JsonObject usage)
    {
        var start = Json.Time(usage, "startTime");
        var block = new KeyValueBlock()
            .Add("Start Time", start.Length == 0 ? "(beginning)" : start)
            .Add("End Time", Json.Time(usage, "endTime"))
            .Add("Accelerator Seconds", Number(usage, "acceleratorSeconds"))
            .Add("Cost", Dollars(usage, "cost"))
            .Add("Requests", Json.Str(usage, "requests"))
            .Add("Prompt Tokens", Json.Str(usage, "promptTokens"))
            .Add("Completion Tokens", Json.Str(usage, "completionTokens"));
        var text = block.ToString();

        var deployments = new Table("DEPLOYMENT", "ACCELERATOR SECONDS", "COST", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS");
        foreach (var d in Json.Objects(usage, "deployments"))
            deployments.Add(Json.Str(d, "deployment"), Number(d, "acceleratorSeconds"), Dollars(d, "cost"),
                Json.Str(d, "requests"), Json.Str(d, "promptTokens"), Json.Str(d, "completionTokens"));
        var keys = new Table("API KEY", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS");
        foreach (var k in Json.Objects(usage, "apiKeys"))
            keys.Add(Json.Str(k, "apiKey"), Json.Str(k, "requests"), Json.Str(k, "promptTokens"), Json.Str(k, "completionTokens"));
        return text + "\n" + deployments + "\n" + keys;
    }

    private static string Number(JsonNode node, string path) =>
        double.TryParse(Json.Str(node, path), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v.ToString("0.###", CultureInfo.InvariantCulture)
            : Json.Str(node, path);

    private static string Dollars(JsonNode node, string path) =>
        decimal.TryParse(Json.Str(node, path), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? "$" + v.ToString("0.00####", CultureInfo.InvariantCulture)
            : Json.Str(node, path);
}
