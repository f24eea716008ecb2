using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kiln.Server.Replica;

/// <summary>
/// Writer settings for API bodies: generated text goes out as plain UTF-8 rather than \u escapes
/// (JSON bodies are never embedded in HTML, so HTML-sensitive characters need no escaping).
/// </summary>
internal static class JsonOutput
{
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
