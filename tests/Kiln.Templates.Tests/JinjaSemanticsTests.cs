using System.Text.Json;
using Kiln.Templates;

namespace Kiln.Templates.Tests;

/// <summary>
/// Edge cases of the Jinja subset. Each expected string is what Python Jinja2 3.1 renders with the
/// chat-template settings (trim_blocks, lstrip_blocks, immutable sandbox, transformers' tojson);
/// a null expectation means Jinja2 raises.
/// </summary>
public sealed class JinjaSemanticsTests
{
    public sealed record Row(string Source, string VariablesJson, string? Expected);

    private static readonly Row[] Rows =
    [
        new("{% for x in items %}\n  {{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}\n{% endfor %}", "{\"items\": [\"a\", \"b\", \"c\"]}", "  1/0/3/2/True/False/3\n  2/1/2/1/False/False/3\n  3/2/1/0/False/True/3\n"),
        new("{% for x in items %}{{ loop.previtem }}>{{ x }}<{{ loop.nextitem }}|{% endfor %}", "{\"items\": [1, 2, 3]}", ">1<2|1>2<3|2>3<|"),
        new("{% for x in [] %}no{% else %}empty{% endfor %}", "", "empty"),
        new("{% for x in range(10) if x is odd %}{{ x }}:{{ loop.index }}{% if not loop.last %},{% endif %}{% endfor %}", "", "1:1,3:2,5:3,7:4,9:5"),
        new("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", "", "0134"),
        new("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d|items %}{{ k }}{% endfor %}{% for k in d %}{{ k }}{% endfor %}", "{\"d\": {\"b\": 1, \"a\": 2}}", "b=1;a=2;baba"),
        new("{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }}{% endfor %}", "", "37"),
        new("{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", "", "123|1"),
        new("{% set ns = namespace(total=0) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}", "", "6"),
        new("{% set ns = namespace() %}{% set ns.a = 'x' %}{{ ns.a }}{{ ns.b }}", "", "x"),
        new("  {% if true %}\n    indented\n  {% endif %}\ndone", "", "    indented\ndone"),
        new("a  {%- if true %}  b  {% endif -%}  c", "", "a  b  c"),
        new("{{- '  x  ' -}}", "", "  x  "),
        new("line1\n{# comment #}\nline2\n  {#- trimmed -#}\nline3", "", "line1\nline2line3"),
        new("x {%+ if true %}y{% endif %}", "", "x y"),
        new("{% if true %}\na\n{%- endif %}\nb", "", "ab"),
        new("{{ 'a' }}\n{{ 'b' }}", "", "a\nb"),
        new("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }} {{ greet(name='Cy') }}", "", "Hello, Ann! Hi, Bob! Hello, Cy!"),
        new("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", "", "120"),
        new("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inside{% endcall %}", "", "[inside]"),
        new("{{ undefined_var }}|{{ undefined_var is defined }}|{{ undefined_var|default('dflt') }}|{{ ''|default('e', true) }}|{{ undefined_var|length }}", "", "|False|dflt|e|0"),
        new("{{ undefined_var.attr }}", "", null), // UndefinedError: 'undefined_var' is undefined
        new("{{ undefined_var + 1 }}", "", null), // UndefinedError: 'undefined_var' is undefined
        new("{% for x in none_var %}{% endfor %}", "{\"none_var\": null}", null), // TypeError: 'NoneType' object is not iterable
        new("{{ d.missing }}|{{ d['missing'] }}|{{ d.missing is defined }}|{{ none_var.attr }}|{{ l[10] }}", "{\"d\": {\"a\": 1}, \"none_var\": null, \"l\": [1]}", "||False||"),
        new("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1.5 + 1 }} {{ 10 / 5 }} {{ 0.1 + 0.2 }} {{ 1e300 * 1e10 }}", "", "3.5 3 -4 1 2 1024 2.5 2.0 0.30000000000000004 inf"),
        new("{{ 3 > 2 > 1 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 'b' in 'abc' }} {{ 3 not in [1, 2] }} {{ 'k' in {'k': 1} }}", "", "True True True True True True True"),
        new("{{ true and 'x' }} {{ false or 'y' }} {{ none or 0 }} {{ not none }} {{ 'a' if false }}|{{ 'a' if false else 'b' }}", "", "x y 0 True |b"),
        new("{{ [1, 'a', none, true, 1.5, {'k': 'v'}, ('x',), (1, 2)] }} {{ \"it's\" }} {{ [\"it's\", 'say \"hi\"', 'tab\\there', 'nl\\n'] }}", "", "[1, 'a', None, True, 1.5, {'k': 'v'}, ('x',), (1, 2)] it's [\"it's\", 'say \"hi\"', 'tab\\there', 'nl\\n']"),
        new("{{ 'abc'[::-1] }} {{ 'abcdef'[1:4] }} {{ [1,2,3,4,5][1:] }} {{ [1,2,3,4,5][:-2] }} {{ [1,2,3,4,5][::2] }} {{ 'abc'[-1] }} {{ [1,2,3][-4:10] }}", "", "cba bcd [2, 3, 4, 5] [1, 2, 3] [1, 3, 5] c [1, 2, 3]"),
        new("{{ '  hi  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'Hello World'|upper }}|{{ 'HeLLo'|lower }}|{{ 'hello world-foo(bar'|title }}|{{ 'hELLO wORLD'|capitalize }}", "", "hi|hi|HELLO WORLD|hello|Hello World-Foo(Bar|Hello world"),
        new("{{ 'a-b-c'|replace('-', '+') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ ['a', 'b']|join(', ') }} {{ [1, 2]|join }} {{ [{'n': 'x'}, {'n': 'y'}]|join('/', attribute='n') }}", "", "a+b+c bba a, b 12 x/y"),
        new("{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [{'a': 2}, {'a': 1}]|sort(attribute='a') }}", "", "[1, 2, 3] [3, 2, 1] ['A', 'b', 'c'] ['A', 'b', 'c'] [{'a': 1}, {'a': 2}]"),
        new("{{ [1, 2, 2, 'a', 'A']|unique|list }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ []|first }}|", "", "[1, 2, 'a'] [3, 2, 1] cba 1 3 |"),
        new("{{ [1, 2, 3]|sum }} {{ [1, 5, 3]|max }} {{ [4, 2, 8]|min }} {{ ['b', 'A']|max }} {{ [{'v': 1}, {'v': 2}]|sum(attribute='v') }}", "", "6 5 2 b 3"),
        new("{{ users|selectattr('active')|map(attribute='name')|list }} {{ users|rejectattr('active')|map(attribute='name')|join }} {{ users|selectattr('name', 'equalto', 'b')|list|length }}", "{\"users\": [{\"name\": \"a\", \"active\": true}, {\"name\": \"b\", \"active\": false}, {\"name\": \"c\", \"active\": true}]}", "['a', 'c'] b 1"),
        new("{{ [1, 2, 3, 4]|select('even')|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ [1, 2, 3, 4]|select('divisibleby', 3)|list }} {{ ['a', 'B']|map('upper')|list }}", "", "[2, 4] [2, 4] [3] ['A', 'B']"),
        new("{{ '3'|int + 1 }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ '2.5'|float }} {{ 3|float }} {{ -4|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 7|round }}", "", "4 3 0 5 2.5 3.0 4 2.57 2.0 4.0 7"),
        new("{{ 1|string + 'x' }} {{ none|string }} {{ [1]|string }} {{ 'h\u00e9llo'|length }} {{ {'a': 1}|length }} {{ 'one two  three'|wordcount }}", "", "1x None [1] 5 1 3"),
        new("{{ 'abc'|center(9) }}|{{ 'ab'|center(7) }}|{{ '<a href=\"x\">&</a>'|e }}|{{ '<b>'|safe }}", "", "   abc   |   ab  |&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;|<b>"),
        new("{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'x\\ny'|indent('> ') }}", "", "a\n    b\n\n    c|  a\n  b|a\n  \n  b|x\n> y"),
        new("{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 0)|list }} {{ {'b': 1, 'a': 2}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value') }}", "", "[[1, 2], [3, 4], [5]] [[1, 2], [3, 0]] [('a', 2), ('b', 1)] [('b', 1), ('a', 2)]"),
        new("{{ data|tojson }}\n{{ data|tojson(indent=2) }}\n{{ data|tojson(sort_keys=true) }}\n{{ data|tojson(separators=(',', ':')) }}\n{{ '\u00e9\"\\\\\\n\\t\\u0001'|tojson }} {{ [1.0, 1e20, 0.5, true, none]|tojson }} {{ {}|tojson(indent=2) }} {{ []|tojson }}", "{\"data\": {\"name\": \"\u00fc\", \"n\": 1, \"f\": 2.5, \"l\": [1, {\"x\": null}], \"e\": {}, \"b\": false}}", "{\"name\": \"\u00fc\", \"n\": 1, \"f\": 2.5, \"l\": [1, {\"x\": null}], \"e\": {}, \"b\": false}\n{\n  \"name\": \"\u00fc\",\n  \"n\": 1,\n  \"f\": 2.5,\n  \"l\": [\n    1,\n    {\n      \"x\": null\n    }\n  ],\n  \"e\": {},\n  \"b\": false\n}\n{\"b\": false, \"e\": {}, \"f\": 2.5, \"l\": [1, {\"x\": null}], \"n\": 1, \"name\": \"\u00fc\"}\n{\"name\":\"\u00fc\",\"n\":1,\"f\":2.5,\"l\":[1,{\"x\":null}],\"e\":{},\"b\":false}\n\"\u00e9\\\"\\\\\\n\\t\\u0001\" [1.0, 1e+20, 0.5, true, null] {} []"),
        new("{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}", "", "a b|a|a|a|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']"),
        new("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'ab'.replace('a', 'c') }} {{ 'hello world'.title() }} {{ 'hello'.find('l') }} {{ 'hello'.find('z') }}", "", "True True HELLO hello cb Hello World 2 -1"),
        new("{{ '{} and {}'.format('a', 'b') }} {{ '{name}!'.format(name='x') }} {{ 'a</think>b'.split('</think>')[-1] }} {{ 'abc'.count('b') }} {{ '-'.join(['a', 'b']) }}", "", "a and b x! b 1 a-b"),
        new("{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d['a'] }} {{ d.a }}", "{\"d\": {\"a\": 1, \"b\": [2]}}", "1 dflt None ['a', 'b'] [1, [2]] [('a', 1), ('b', [2])] 1 1"),
        new("{{ [1, 2].append(3) }}", "", null), // SecurityError: access to attribute 'append' of 'list' object is unsafe.
        new("{{ range(5)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}", "", "[0, 1, 2, 3, 4] [1, 4, 7] [5, 3, 1] {'a': 1, 'b': 'x'} 1"),
        new("{{ x is none }} {{ x is not none }} {{ 'a' is string }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is sequence }} {{ 3 is odd }} {{ 4 is even }} {{ 6 is divisibleby 3 }} {{ 1 is eq 1 }} {{ 'a' is in 'abc' }} {{ none is sameas none }} {{ true is true }} {{ 0 is false }}", "{\"x\": null}", "True False True True True True True True True True True True True True True True True False"),
        new("{{ raise_exception('boom') }}", "", null), // TemplateError: boom
        new("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %I%p') }}", "", "21 Nov 2026|2026-11-21 00:00:00 Saturday November 325 12AM"),
        new("{% set block %}\n  content {{ 1 + 1 }}\n{% endset %}[{{ block }}]", "", "[  content 2\n]"),
        new("{% filter upper %}shout {{ 'it' }}{% endfilter %}", "", "SHOUT IT"),
        new("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}", "", "12(1, 2)"),
        new("{{ 'a' ~ 1 ~ none ~ true }} {{ 'x' * 3 }} {{ [0] * 3 }} {{ [1] + [2] }} {{ 'a' + 'b' }}", "", "a1NoneTrue xxx [0, 0, 0] [1, 2] ab"),
        new("{{ 1 + 'a' }}", "", null), // TypeError: unsupported operand type(s) for +: 'int' and 'str'
        new("{{ 'a' < 1 }}", "", null), // TypeError: '<' not supported between instances of 'str' and 'int'
        new("{% if x %}\n{% elif y %}\n{% endif %", "", null), // TemplateSyntaxError: expected token 'end of statement block', got '%'
        new("{% for x in y %}{{ x }}", "", null), // TemplateSyntaxError: Unexpected end of template. Jinja was looking for the following tags:
        new("{{ foo( }}", "", null), // TemplateSyntaxError: unexpected '}', expected ')'
        new("{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}", "", "1(2,){'k': 3}"),
        new("{{ {'a': {'b': 1}}}}", "", "{'a': {'b': 1}}"),
        new("{{ \"\\x41\\u00e9\\n\" }}{{ 'a\\'b' }}{{ \"multi\nline\" }}", "", "A\u00e9\na'bmulti\nline"),
        new("{% for m in messages %}{{ m.role }}:{{ m['content'] }}{% if m.tool_calls is defined %}T{% endif %}\n{% endfor %}", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": null, \"tool_calls\": []}]}", "user:hiassistant:NoneT"),
        new("{{ foo.bar is defined }}", "", null), // UndefinedError: 'foo' is undefined
        new("{{ -3|abs }} {{ - 2 ** 2 }} {{ (1, 2)[0] }} {{ [[1, 2], [3]][0][1] }} {{ 'abc'.upper()[1:] }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}", "", "3 4 1 2 BC 5 64"),
        new("{% set x = [1, 2, 3] %}{{ x|length > 2 and x[0] == 1 }} {{ x|map('string')|join('-') }} {{ (x|first) + (x|last) }}\n", "", "True 1-2-3 4"),
    ];

    public static TheoryData<int, string> RowIndexes()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Rows.Length; i++)
            data.Add(i, Rows[i].Source.Length > 60 ? Rows[i].Source[..60] : Rows[i].Source);
        return data;
    }

    internal static string Render(string source, string variablesJson = "")
    {
        var template = ChatTemplate.Parse(source);
        template.Now = () => new DateTime(2026, 11, 21, 0, 0, 0);
        var vars = new Dictionary<string, object?>();
        if (variablesJson.Length > 0)
        {
            using var doc = JsonDocument.Parse(variablesJson);
            foreach (var p in doc.RootElement.EnumerateObject()) vars[p.Name] = p.Value.Clone();
        }
        return template.Render(vars);
    }

    [Theory]
    [MemberData(nameof(RowIndexes))]
    public void MatchesJinja2(int index, string source)
    {
        var row = Rows[index];
        if (row.Expected is null)
            Assert.Throws<TemplateException>(() => Render(row.Source, row.VariablesJson));
        else
            Assert.Equal(row.Expected, Render(row.Source, row.VariablesJson));
        Assert.NotNull(source);
    }
}
