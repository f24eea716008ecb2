using System.Text.Json;
using Kiln.Engine.Sampling;

namespace Kiln.Server.Replica;

/// <summary>The request fields shared by completions and chat completions.</summary>
internal sealed record GenerationSettings(
    SamplingParams Sampling,
    int? MaxTokens,
    IReadOnlyList<string> Stop,
    int N,
    bool Stream,
    bool IncludeUsage,
    bool IgnoreEos)
{
    public const int MaxN = 16;
    public const int MaxStops = 4;

    public static GenerationSettings Parse(JsonElement body, bool chat, int vocabSize, int contextSize)
    {
        int? maxTokens = (int?)JsonFields.Integer(body, "max_tokens", chat ? 1 : 0, int.MaxValue);
        if (chat && JsonFields.Integer(body, "max_completion_tokens", 1, int.MaxValue) is { } mct) maxTokens = (int)mct;
        if (maxTokens > contextSize)
            throw JsonFields.OutOfRange(chat && body.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens",
                $"at most the context length ({contextSize})", maxTokens.Value.ToString());

        var n = (int)(JsonFields.Integer(body, "n", 1, MaxN) ?? 1);
        var stream = JsonFields.Bool(body, "stream") ?? false;
        var includeUsage = false;
        if (JsonFields.TryGet(body, "stream_options", out var so))
        {
            if (so.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("stream_options", "an object", so);
            includeUsage = JsonFields.Bool(so, "include_usage") ?? false;
        }

        var (logprobs, topLogprobs) = chat ? ChatLogprobs(body) : CompletionLogprobs(body);
        var sampling = new SamplingParams
        {
            Temperature = (float)(JsonFields.Number(body, "temperature", 0, 2) ?? 1),
            TopP = (float)(JsonFields.Number(body, "top_p", 0, 1) ?? 1),
            TopK = (int)(JsonFields.Integer(body, "top_k", 0, vocabSize) ?? 0),
            MinP = (float)(JsonFields.Number(body, "min_p", 0, 1) ?? 0),
            RepetitionPenalty = (float)(JsonFields.Number(body, "repetition_penalty", 0, 10)
                ?? JsonFields.Number(body, "repeat_penalty", 0, 10) ?? 1),
            RepetitionLastN = (int)(JsonFields.Integer(body, "repeat_last_n", 0, contextSize) ?? 64),
            PresencePenalty = (float)(JsonFields.Number(body, "presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(JsonFields.Number(body, "frequency_penalty", -2, 2) ?? 0),
            LogitBias = LogitBias(body, vocabSize),
            Seed = JsonFields.Integer(body, "seed", long.MinValue, long.MaxValue) is { } seed ? unchecked((ulong)seed) : null,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
        };
        if (sampling.TopP == 0) throw JsonFields.OutOfRange("top_p", "a number greater than 0 and at most 1", "0");
        if (sampling.RepetitionPenalty == 0) throw JsonFields.OutOfRange("repetition_penalty", "a number greater than 0", "0");

        // As llama.cpp's server and vLLM accept it: run to max_tokens through end-of-sequence tokens.
        var ignoreEos = JsonFields.Bool(body, "ignore_eos") ?? false;
        return new GenerationSettings(sampling, maxTokens, Stops(body), n, stream, includeUsage, ignoreEos);
    }

    private static (bool, int) ChatLogprobs(JsonElement body)
    {
        var logprobs = JsonFields.Bool(body, "logprobs") ?? false;
        var top = (int?)JsonFields.Integer(body, "top_logprobs", 0, SamplingParams.MaxTopLogprobs);
        if (top is not null && !logprobs)
            throw ApiException.Invalid("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs");
        return (logprobs, top ?? 0);
    }

    // Legacy completions: "logprobs" is the number of alternatives (0 still reports the chosen token).
    private static (bool, int) CompletionLogprobs(JsonElement body)
    {
        var n = (int?)JsonFields.Integer(body, "logprobs", 0, SamplingParams.MaxTopLogprobs);
        return (n is not null, n ?? 0);
    }

    private static Dictionary<int, float>? LogitBias(JsonElement body, int vocabSize)
    {
        if (!JsonFields.TryGet(body, "logit_bias", out var v)) return null;
        if (v.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("logit_bias", "an object of token ids to numbers", v);
        var result = new Dictionary<int, float>();
        foreach (var p in v.EnumerateObject())
        {
            if (!int.TryParse(p.Name, out var id) || id < 0 || id >= vocabSize)
                throw JsonFields.OutOfRange("logit_bias", $"token ids between 0 and {vocabSize - 1}", $"'{p.Name}'");
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetDouble(out var bias))
                throw JsonFields.WrongType("logit_bias", "numeric biases", p.Value);
            if (bias is < -100 or > 100) throw JsonFields.OutOfRange("logit_bias", "biases between -100 and 100", p.Value.GetRawText());
            result[id] = (float)bias;
        }
        return result;
    }

    private static IReadOnlyList<string> Stops(JsonElement body)
    {
        if (!JsonFields.TryGet(body, "stop", out var v)) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType("stop", "a string or an array of strings", v);
        if (v.GetArrayLength() > MaxStops)
            throw JsonFields.OutOfRange("stop", $"at most {MaxStops} stop sequences", v.GetArrayLength().ToString());
        var stops = new List<string>();
        foreach (var s in v.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.String) throw JsonFields.WrongType("stop", "a string or an array of strings", s);
            stops.Add(s.GetString()!);
        }
        return stops;
    }
}
