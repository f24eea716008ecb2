using System.Text.Json;
using Kiln.Engine.Tokenizers;

namespace Kiln.Server.Replica;

/// <summary>One prompt of a completions request: its text (for echo) and tokens.</summary>
internal sealed record CompletionPrompt(string Text, int[] Tokens);

/// <summary>A parsed <c>POST /v1/completions</c> body.</summary>
internal sealed record CompletionRequest(IReadOnlyList<CompletionPrompt> Prompts, GenerationSettings Settings, bool Echo)
{
    public const int MaxPrompts = 64;

    public static CompletionRequest Parse(JsonElement body, ITokenizer tokenizer, int contextSize)
    {
        CommonChecks.Check(body);
        if (JsonFields.String(body, "suffix") is { Length: > 0 }) throw ApiException.Unsupported("suffix");
        if (JsonFields.Integer(body, "best_of", 1, GenerationSettings.MaxN) is > 1) throw ApiException.Unsupported("best_of");
        var settings = GenerationSettings.Parse(body, chat: false, tokenizer.VocabSize, contextSize);
        var echo = JsonFields.Bool(body, "echo") ?? false;
        return new CompletionRequest(ParsePrompts(body, tokenizer, contextSize), settings, echo);
    }

    private static List<CompletionPrompt> ParsePrompts(JsonElement body, ITokenizer tokenizer, int contextSize)
    {
        if (!JsonFields.TryGet(body, "prompt", out var p))
            throw ApiException.Invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
        const string expected = "a string, an array of strings, an array of token ids, or an array of token-id arrays";
        switch (p.ValueKind)
        {
            case JsonValueKind.String:
                return [FromText(tokenizer, p.GetString()!, contextSize, "prompt")];
            case JsonValueKind.Array:
                var length = p.GetArrayLength();
                if (length == 0) throw ApiException.Invalid("'prompt' must not be empty.", "prompt");
                var first = p[0].ValueKind;
                if (first == JsonValueKind.Number) return [FromTokens(tokenizer, p, "prompt", contextSize)];
                if (length > MaxPrompts)
                    throw JsonFields.OutOfRange("prompt", $"at most {MaxPrompts} prompts", length.ToString());
                var prompts = new List<CompletionPrompt>();
                var i = 0;
                foreach (var item in p.EnumerateArray())
                {
                    var field = $"prompt[{i++}]";
                    if (item.ValueKind == JsonValueKind.String && first == JsonValueKind.String)
                        prompts.Add(FromText(tokenizer, item.GetString()!, contextSize, field));
                    else if (item.ValueKind == JsonValueKind.Array && first == JsonValueKind.Array)
                        prompts.Add(FromTokens(tokenizer, item, field, contextSize));
                    else throw JsonFields.WrongType(field, expected, item);
                }
                return prompts;
            default:
                throw JsonFields.WrongType("prompt", expected, p);
        }
    }

    private static CompletionPrompt FromText(ITokenizer tokenizer, string text, int contextSize, string field) =>
        new(text, PromptEncoding.Encode(tokenizer, text, contextSize, field));

    private static CompletionPrompt FromTokens(ITokenizer tokenizer, JsonElement array, string field, int contextSize)
    {
        var length = array.GetArrayLength();
        // Refused before anything is copied or decoded.
        if (length > contextSize) throw PromptEncoding.TooLong(contextSize, length.ToString(), field);
        var tokens = new int[length];
        var i = 0;
        foreach (var t in array.EnumerateArray())
            tokens[i++] = (int)JsonFields.IntegerValue(t, field, 0, tokenizer.VocabSize - 1);
        return new CompletionPrompt(PromptEncoding.Decode(tokenizer, tokens), tokens);
    }
}

/// <summary>Checks both endpoints share: the body is an object, the model a string, no tools.</summary>
internal static class CommonChecks
{
    public static void Check(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw ApiException.Invalid("The request body must be a JSON object.");
        JsonFields.String(body, "model");
        JsonFields.String(body, "user");
    }
}
