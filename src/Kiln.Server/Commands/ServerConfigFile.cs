using System.Text.Json;
using Kiln.Core.Engines;
using Kiln.Core.Shapes;

namespace Kiln.Server.Commands;

/// <summary>Reads <c>kiln server --config FILE</c>: a JSON object whose <c>engines</c> section holds engine profiles.</summary>
public static class ServerConfigFile
{
    /// <summary>The engine and shape catalogs the file describes, or null after printing every problem (the server then exits with 2).</summary>
    public static (EngineCatalog Engines, ShapeCatalog Shapes)? Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"kiln server: --config {path}: cannot read it: {e.Message}");
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            // Shapes name engines, so they are checked against the engines the same file configures.
            if (EngineConfig.TryParse(doc.RootElement, out var catalog, out var problems)
                && ShapeCatalog.TryRead(doc.RootElement, catalog, out var shapes, out problems))
            {
                return (catalog, shapes);
            }
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"kiln server: --config {path}: {problem}");
            }
            return null;
        }
        catch (JsonException e)
        {
            Console.Error.WriteLine($"kiln server: --config {path}: not valid JSON: {e.Message}");
            return null;
        }
    }
}
