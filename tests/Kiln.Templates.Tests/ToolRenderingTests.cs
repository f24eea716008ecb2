using System.Runtime.CompilerServices;
using System.Text.Json;
using Kiln.Templates;

namespace Kiln.Templates.Tests;

/// <summary>
/// The golden templates with tools, tool calls, tool results and documents: tool-renderings.json holds
/// what Python Jinja2 renders (or which error it raises) for each template and input variant.
/// </summary>
public sealed class ToolRenderingTests
{
    private static string DataPath([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "tool-renderings.json");

    private static readonly Lazy<JsonElement> Data = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DataPath()));
        return doc.RootElement.Clone();
    });

    public static TheoryData<int, string> Rows()
    {
        var data = new TheoryData<int, string>();
        var i = 0;
        foreach (var c in Data.Value.GetProperty("cases").EnumerateArray())
            data.Add(i++, $"{c.GetProperty("template").GetString()} / {c.GetProperty("variant").GetString()}");
        return data;
    }

    [SharedTheory]
    [MemberData(nameof(Rows))]
    public void MatchesJinja2(int index, string name)
    {
        var c = Data.Value.GetProperty("cases")[index];
        var template = ChatTemplate.Parse(File.ReadAllText(SharedFiles.GoldenFile("chat-templates", c.GetProperty("template").GetString()!)));
        template.Now = () => new DateTime(2026, 11, 21);
        var vars = Data.Value.GetProperty("variants").GetProperty(c.GetProperty("variant").GetString()!)
            .EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        if (c.TryGetProperty("expected", out var expected))
            Assert.Equal(expected.GetString(), template.Render(vars));
        else
            Assert.Throws<TemplateException>(() => template.Render(vars));
        Assert.NotEmpty(name);
    }
}
