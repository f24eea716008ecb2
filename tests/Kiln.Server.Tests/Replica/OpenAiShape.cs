using System.Text.Json;

namespace Kiln.Server.Tests.Replica;

/// <summary>What every answer on the inference surface must look like, whatever was sent.</summary>
internal static class OpenAiShape
{
    /// <summary>A 4xx in OpenAI's error shape, or a 2xx with a completion (plain or SSE); never a 5xx.</summary>
    public static void Assert(int status, string? mediaType, string text, string context)
    {
        Xunit.Assert.True(status is >= 200 and < 500, $"{status} for {context}: {Cut(text)}");
        if (status >= 400)
        {
            AssertError(text, context);
            return;
        }
        if (mediaType == "text/event-stream")
        {
            var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            Xunit.Assert.All(events, e => Xunit.Assert.StartsWith("data: ", e));
            foreach (var e in events[..^1]) JsonDocument.Parse(e["data: ".Length..]).Dispose();
            return;
        }
        using var doc = JsonDocument.Parse(text);
        Xunit.Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("choices").ValueKind);
    }

    public static void AssertError(string text, string context)
    {
        using var doc = JsonDocument.Parse(text);
        Xunit.Assert.True(doc.RootElement.TryGetProperty("error", out var error), $"no error object for {context}: {Cut(text)}");
        Xunit.Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Xunit.Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Xunit.Assert.True(error.GetProperty("param").ValueKind is JsonValueKind.String or JsonValueKind.Null, context);
        Xunit.Assert.True(error.GetProperty("code").ValueKind is JsonValueKind.String or JsonValueKind.Null, context);
    }

    public static string Cut(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
