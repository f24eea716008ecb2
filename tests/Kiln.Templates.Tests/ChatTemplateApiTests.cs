using System.Diagnostics;
using System.Text.Json;
using Kiln.Templates;

namespace Kiln.Templates.Tests;

/// <summary>The public API, error reporting, and the limits that protect the server from hostile templates.</summary>
public sealed class ChatTemplateApiTests
{
    private static string Render(string source, Dictionary<string, object?>? vars = null) =>
        ChatTemplate.Parse(source).Render(vars ?? []);

    [Fact]
    public void ChatMLFallbackRendersConversation()
    {
        var t = ChatTemplate.Parse(ChatTemplate.ChatMLFallback);
        var text = t.RenderChat([new("system", "Be brief."), new("user", "Hi")], "", "", addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void RenderChatPassesToolsNoneAndExtraVariablesOverride()
    {
        var t = ChatTemplate.Parse("{{ tools is none }}|{{ documents is none }}|{{ bos_token }}{{ eos_token }}|{{ add_generation_prompt }}|{{ x }}");
        Assert.Equal("True|True|<s></s>|False|", t.RenderChat([], "<s>", "</s>", false));
        Assert.Equal("False|True|<s></s>|False|1", t.RenderChat([], "<s>", "</s>", false, new Dictionary<string, object?> { ["tools"] = new List<object?>(), ["x"] = 1 }));
    }

    [Fact]
    public void ChatMessageOptionalFieldsAppearOnlyWhenGiven()
    {
        var t = ChatTemplate.Parse("{% for m in messages %}{{ 'tool_calls' in m }}:{{ m.content is none }}:{{ m.tool_calls[0].function.name if m.tool_calls is defined }};{% endfor %}");
        using var calls = JsonDocument.Parse("""[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]""");
        var text = t.RenderChat([new("user", "hi"), new("assistant", null, ToolCalls: calls.RootElement.Clone())], "", "", false);
        Assert.Equal("False:False:;True:True:f;", text);
    }

    [Fact]
    public void AcceptsClrAndJsonValues()
    {
        using var doc = JsonDocument.Parse("""{"n": 1, "f": 1.0, "s": "é", "l": [true, null], "o": {"k": "v"}}""");
        var vars = new Dictionary<string, object?>
        {
            ["j"] = doc.RootElement.Clone(),
            ["list"] = new List<object?> { 1, 2.5, "x" },
            ["dict"] = new Dictionary<string, object?> { ["a"] = 1L },
            ["ro"] = (IReadOnlyList<object?>)["y"],
        };
        Assert.Equal("""{"n": 1, "f": 1.0, "s": "é", "l": [true, null], "o": {"k": "v"}}|[1, 2.5, 'x']|{'a': 1}|['y']""",
            Render("{{ j|tojson }}|{{ list }}|{{ dict }}|{{ ro }}", vars));
    }

    [Fact]
    public void StrftimeNowUsesInjectedClock()
    {
        var t = ChatTemplate.Parse("{{ strftime_now('%d %b %Y') }}");
        t.Now = () => new DateTime(2026, 11, 21);
        Assert.Equal("21 Nov 2026", t.Render(new Dictionary<string, object?>()));
    }

    [Theory]
    [InlineData("{% if x %}\n{% for %}", 2)]
    [InlineData("line\n\n{{ 1 + }}", 3)]
    [InlineData("{% if true %}\nno end", 2)]
    [InlineData("a\n{% frobnicate %}", 2)]
    [InlineData("{{ x|nosuchfilter }}", 1)]
    [InlineData("{{ 'unterminated }}", 1)]
    [InlineData("{% break %}", 1)]
    public void SyntaxErrorsNameTheLine(string source, int line)
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"line {line}:", e.Message);
    }

    [Fact]
    public void RaiseExceptionKeepsItsMessage()
    {
        var e = Assert.Throws<TemplateException>(() => Render("\n{{ raise_exception('Roles must alternate') }}"));
        Assert.Equal("Roles must alternate", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("{{ x.y }}", "'x' is undefined")]
    [InlineData("{{ x() }}", "'x' is undefined")]
    [InlineData("{% for t in tools %}{% endfor %}", "'NoneType' object is not iterable")]
    [InlineData("{{ 'a' + 1 }}", "unsupported operand")]
    [InlineData("{{ 'a'() }}", "not callable")]
    [InlineData("{{ [].append(1) }}", "unsafe")]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "non-namespace")]
    public void RuntimeErrorsSayWhy(string source, string fragment)
    {
        var e = Assert.Throws<TemplateException>(() => Render(source, new() { ["tools"] = null }));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void UndefinedPrintsEmptyAndIteratesEmpty()
    {
        Assert.Equal("[]|0|ok", Render("[{{ nope }}]|{{ nope|length }}|{% for x in nope %}bad{% else %}ok{% endfor %}"));
    }

    [Theory]
    [InlineData("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "steps")]
    [InlineData("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "call depth")]
    [InlineData("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", "call depth")]
    [InlineData("{% for i in range(2000000) %}x{% endfor %}", "range")]
    [InlineData("{% for i in range(100000) %}{% for j in range(20) %}xxxxxxxxxxx{% endfor %}{% endfor %}", "output")]
    [InlineData("{{ 'x' * 100000000 }}", "exceeds")]
    [InlineData("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "exceeds")]
    [InlineData("{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "exceeds")]
    [InlineData("{{ 2 ** 100000 }}", "overflow")]
    public void HostileTemplatesFailFast(string source, string fragment)
    {
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<TemplateException>(() => Render(source));
        Assert.Contains(fragment, e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
    }

    [Fact]
    public void DeepNestingIsRejectedNotStackOverflow()
    {
        var deepParens = new string('(', 5000) + "1" + new string(')', 5000);
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ " + deepParens + " }}"));
        var deepIfs = string.Concat(Enumerable.Repeat("{% if true %}", 5000)) + string.Concat(Enumerable.Repeat("{% endif %}", 5000));
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse(deepIfs));
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("not ", 5000)) + "1 }}"));
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("-", 5000)) + "1 }}"));
    }

    [Fact]
    public void MarkupConcatenationEscapesLikeJinja()
    {
        Assert.Equal("<b>&lt;i&gt;|<b><i>", Render("{{ '<b>'|safe + '<i>' }}|{{ '<b>'|safe ~ '<i>' }}"));
    }
}
