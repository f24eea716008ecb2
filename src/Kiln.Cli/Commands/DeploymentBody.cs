using System.Text.Json;
using System.Text.Json.Nodes;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// The body of create/update deployment: the JSON of <c>--file</c> (a REST body, such as a
/// deployment saved with <c>-o json</c>; the server ignores its output-only fields) with the spec
/// flags laid over it, and <c>--dry-run</c>'s printout of the request instead of sending it.
/// </summary>
public static class DeploymentBody
{
    /// <summary>The file's object, or an empty one without --file; a usage error naming the file when it cannot be used.</summary>
    public static JsonObject ReadFile(string? path)
    {
        if (path is null)
            return new JsonObject();
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--file: cannot read {path}: {e.Message}");
        }
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new UsageException($"--file: {path} must hold a JSON object (a deployment's REST body)");
        }
        catch (JsonException e)
        {
            throw new UsageException($"--file: {path} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Lays <paramref name="flags"/> over <paramref name="file"/>: objects merge key by key, anything else is replaced.</summary>
    public static JsonObject Merge(JsonObject file, JsonObject flags)
    {
        var merged = (JsonObject)file.DeepClone();
        foreach (var (key, value) in flags)
        {
            merged[key] = merged[key] is JsonObject inner && value is JsonObject over
                ? Merge(inner, over)
                : value?.DeepClone();
        }
        return merged;
    }

    /// <summary>--dry-run: the request as it would go out.</summary>
    public static void PrintDryRun(CommandContext ctx, string method, string path, JsonObject body)
    {
        if (ctx.Json)
            ctx.Out.Write(Json.Pretty(new JsonObject { ["method"] = method, ["path"] = path, ["body"] = body.DeepClone() }) + "\n");
        else
            ctx.Out.Write($"Dry run: would send {method} {ctx.ServerUri.ToString().TrimEnd('/')}{path}\n{Json.Pretty(body)}\n");
        ctx.Out.Flush();
    }
}
