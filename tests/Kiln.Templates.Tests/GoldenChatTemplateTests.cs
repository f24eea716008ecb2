using System.Text.Json;
using Kiln.Templates;

namespace Kiln.Templates.Tests;

/// <summary>Renders every golden chat-template case and requires the exact expected text (or a failure for errors.json).</summary>
public sealed class GoldenChatTemplateTests
{
    private static readonly DateTime GoldenNow = new(2026, 11, 21, 0, 0, 0);

    private static JsonElement[] Load(string file)
    {
        if (SharedFiles.Root is null) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(SharedFiles.GoldenFile("chat-templates", file)));
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static readonly Lazy<JsonElement[]> Cases = new(() => Load("cases.json"));
    private static readonly Lazy<JsonElement[]> Errors = new(() => Load("errors.json"));

    /// <summary>Rows name the template and conversation, so a failure says which case broke.</summary>
    public static TheoryData<int, string> CaseRows() => Rows(Cases.Value);

    public static TheoryData<int, string> ErrorRows() => Rows(Errors.Value);

    private static TheoryData<int, string> Rows(JsonElement[] cases)
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < cases.Length; i++)
            data.Add(i, $"{cases[i].GetProperty("template").GetString()} / {cases[i].GetProperty("conversation").GetString()}");
        if (cases.Length == 0) data.Add(-1, "shared files absent");
        return data;
    }

    private static string Render(JsonElement c)
    {
        var source = File.ReadAllText(SharedFiles.GoldenFile("chat-templates", c.GetProperty("template").GetString()!));
        var template = ChatTemplate.Parse(source);
        template.Now = () => GoldenNow;
        var messages = c.GetProperty("messages").EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()))
            .ToList();
        var extra = c.GetProperty("extra_vars").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        return template.RenderChat(messages, c.GetProperty("bos_token").GetString()!, c.GetProperty("eos_token").GetString()!,
            c.GetProperty("add_generation_prompt").GetBoolean(), extra);
    }

    [SharedTheory]
    [MemberData(nameof(CaseRows))]
    public void RendersExpected(int index, string name)
    {
        Assert.True(index >= 0, name);
        var c = Cases.Value[index];
        Assert.Equal(c.GetProperty("expected").GetString(), Render(c));
    }

    [SharedTheory]
    [MemberData(nameof(ErrorRows))]
    public void RaisesOnErrorCases(int index, string name)
    {
        Assert.True(index >= 0, name);
        var c = Errors.Value[index];
        var e = Assert.Throws<TemplateException>(() => Render(c));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [SharedFact]
    public void EveryTemplateParses()
    {
        var files = Directory.GetFiles(SharedFiles.GoldenFile("chat-templates"), "*.jinja");
        Assert.NotEmpty(files); // an empty folder would otherwise pass having parsed nothing
        foreach (var file in files)
            ChatTemplate.Parse(File.ReadAllText(file));
    }
}
