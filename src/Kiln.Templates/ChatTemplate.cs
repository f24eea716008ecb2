namespace Kiln.Templates;

/// <summary>
/// A parsed chat template (a Jinja2 subset), rendered the way Hugging Face transformers renders chat
/// templates: trim_blocks, lstrip_blocks, loop controls, no autoescaping, an immutable sandbox, and the
/// globals raise_exception and strftime_now.
/// </summary>
public sealed class ChatTemplate
{
    private readonly List<Node> _body;

    private ChatTemplate(List<Node> body) => _body = body;

    /// <summary>The clock strftime_now formats; tests pin it.</summary>
    public Func<DateTime> Now { get; set; } = () => DateTime.Now;

    /// <summary>The ChatML template used when a model has no tokenizer.chat_template.</summary>
    public static string ChatMLFallback { get; } =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Parses a template; throws <see cref="TemplateException"/> naming the line of a syntax error.</summary>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(Parser.Parse(source));
    }

    /// <summary>Renders with the given variables; throws <see cref="TemplateException"/> on runtime errors.</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var vars = new Scope(Globals.Create());
        foreach (var kv in variables) vars.Set(kv.Key, Py.FromClr(kv.Value));
        var evaluator = new Evaluator(Now);
        try
        {
            return evaluator.Render(_body, new Scope(vars));
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new TemplateException("template recursion too deep", e);
        }
    }

    /// <summary>Renders a conversation with transformers' variables: messages, bos_token, eos_token,
    /// add_generation_prompt, tools = documents = None, then <paramref name="extra"/> overriding them.</summary>
    public string RenderChat(IReadOnlyList<ChatMessage> messages, string bosToken, string eosToken, bool addGenerationPrompt,
        IReadOnlyDictionary<string, object?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var vars = new Dictionary<string, object?>
        {
            ["messages"] = messages.Select(m => (object?)m.ToTemplateValue()).ToList(),
            ["bos_token"] = bosToken,
            ["eos_token"] = eosToken,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["tools"] = null,
            ["documents"] = null,
        };
        if (extra is not null)
        {
            foreach (var kv in extra) vars[kv.Key] = kv.Value;
        }
        return Render(vars);
    }
}
