using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Kiln.Engine.Sampling;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Serving;

internal enum SequenceState { Waiting, Prefill, Decode, Done }

/// <summary>
/// One generating sequence: its slot and position, sampler, and the text pipeline
/// (UTF-8 accumulation, then stop-string hold-back) that decides what may be released.
/// Touched only by the scheduler thread once submitted.
/// </summary>
internal sealed class Sequence
{
    private readonly ITokenizer _tokenizer;
    private readonly TokenTextCache _texts;
    private readonly Channel<GenerationEvent> _events = Channel.CreateUnbounded<GenerationEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Utf8Accumulator _utf8 = new();
    private readonly StopMatcher _stops;
    private readonly bool _logprobs;
    private readonly List<(long Start, LogprobEntry Entry)> _pending = [];
    private readonly List<LogprobEntry>? _promptLogprobs;
    private readonly List<int> _output = [];

    // Output held for the finishing event when the request does not stream (null when it does).
    private readonly StringBuilder? _heldText;
    private List<LogprobEntry>? _heldLogprobs;
    private long _decodedChars;

    // Prompt and kept tokens, for speculation's proposers (null when no proposer reads them).
    private readonly int[]? _history;
    private int _historyLength;

    public Sequence(GenerationRequest request, Sampler sampler, ITokenizer tokenizer, TokenTextCache texts, int maxNewTokens, bool keepHistory = false)
    {
        Request = request;
        Prompt = [.. request.PromptTokens];
        Sampler = sampler;
        _tokenizer = tokenizer;
        _texts = texts;
        MaxNewTokens = maxNewTokens;
        _stops = new StopMatcher(request.Stop, texts.Pieces);
        _logprobs = request.Sampling.Logprobs || request.Sampling.TopLogprobs > 0;
        if (request.PromptLogprobs) _promptLogprobs = new List<LogprobEntry>(Prompt.Length);
        if (!request.Stream) _heldText = new StringBuilder();
        Handle = new Generation(Prompt.Length, _events.Reader);
        if (keepHistory)
        {
            _history = new int[Prompt.Length + maxNewTokens];
            Prompt.CopyTo(_history, 0);
            _historyLength = Prompt.Length;
        }
        Submitted = Stopwatch.GetTimestamp();
    }

    public GenerationRequest Request { get; }
    public int[] Prompt { get; }
    public Sampler Sampler { get; }
    public Generation Handle { get; }
    public int MaxNewTokens { get; }
    public long Submitted { get; }
    public SequenceState State { get; set; } = SequenceState.Waiting;
    public int Slot { get; set; } = -1;

    /// <summary>Tokens in the slot's cache, which is also the position of the next row.</summary>
    public int Fed { get; set; }

    /// <summary>Prompt tokens in the slot's cache so far.</summary>
    private int PromptTokensFed => Math.Min(Fed, Prompt.Length);

    public int LastToken { get; private set; }
    public int Generated { get; private set; }
    public bool WantsPromptLogits => _promptLogprobs is not null;

    /// <summary>The prompt and the tokens generated so far (kept only when asked for at construction).</summary>
    public ReadOnlySpan<int> History => _history.AsSpan(0, _historyLength);
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>The tokens whose keys and values the slot holds, positions 0..<see cref="Fed"/>-1.</summary>
    public int[] FedTokens()
    {
        var fromOutput = Math.Max(0, Fed - Prompt.Length);
        return [.. Prompt.AsSpan(0, PromptTokensFed), .. System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_output)[..fromOutput]];
    }

    public void Admit(int slot)
    {
        Slot = slot;
        State = SequenceState.Prefill;
        Sampler.AcceptPrompt(Prompt);
        _promptLogprobs?.Add(Entry(Prompt[0], null));
    }

    /// <summary>Records the logprob of prompt token <paramref name="token"/> from the logits of the row before it.</summary>
    public void ScorePromptToken(ReadOnlySpan<float> logits, int token)
    {
        Sampler.Score(logits, token);
        _promptLogprobs!.Add(Entry(token, Sampler.ChosenLogprob));
    }

    public void PromptDone()
    {
        State = SequenceState.Decode;
        if (_promptLogprobs is not null)
            _events.Writer.TryWrite(new GenerationEvent(string.Empty, null, null, 0) { PromptLogprobs = _promptLogprobs });
    }

    /// <summary>Takes a sampled token; returns how the sequence ended, or null to keep going.</summary>
    public FinishReason? Accept(int token)
    {
        Generated++;
        if (!Request.IgnoreEos && (token == _tokenizer.EosId || _tokenizer.EndOfGenerationIds.Contains(token)))
        {
            FlushText();
            return FinishReason.Stop;
        }
        LastToken = token;
        _output.Add(token);
        if (_history is not null) _history[_historyLength++] = token;
        if (_logprobs) _pending.Add((_decodedChars, Entry(token, Sampler.ChosenLogprob)));

        var chars = _utf8.Append(_tokenizer.TokenBytes(token));
        _decodedChars += chars.Length;
        var text = _stops.Push(chars, out var stopped);
        if (stopped)
        {
            Emit(text, ReleasePending(_stops.Released, dropRest: true));
            return FinishReason.Stop;
        }
        if (Generated >= MaxNewTokens)
        {
            Emit(text, ReleasePending(_stops.Released, dropRest: false));
            return FlushText() ? FinishReason.Stop : FinishReason.Length;
        }
        if (text.Length > 0) Emit(text, ReleasePending(_stops.Released, dropRest: false));
        return null;
    }

    /// <summary>Ends the stream: a stop string may still surface in the last bytes. Returns whether one did.</summary>
    private bool FlushText()
    {
        var text = _stops.Push(_utf8.Flush(), out var stopped);
        var cut = stopped ? _stops.Released : long.MaxValue;
        if (!stopped) text += _stops.Flush();
        Emit(text, ReleasePending(cut, dropRest: true));
        return stopped;
    }

    public void Finish(FinishReason reason)
    {
        State = SequenceState.Done;
        var text = _heldText?.ToString() ?? string.Empty;
        _events.Writer.TryWrite(new GenerationEvent(text, _heldLogprobs, reason, Generated));
        _events.Writer.TryComplete();
        Handle.MarkFinished(PromptTokensFed, Generated);
    }

    public void Fail(Exception error)
    {
        State = SequenceState.Done;
        _events.Writer.TryComplete(error);
        Handle.MarkFinished(PromptTokensFed, Generated);
    }

    private void Emit(string text, List<LogprobEntry>? logprobs)
    {
        if (text.Length == 0 && logprobs is null) return;
        if (_heldText is not null)
        {
            _heldText.Append(text);
            if (logprobs is not null) (_heldLogprobs ??= []).AddRange(logprobs);
            return;
        }
        _events.Writer.TryWrite(new GenerationEvent(text, logprobs, null, Generated));
    }

    /// <summary>Hands out the entries of tokens whose text starts before <paramref name="released"/>.</summary>
    private List<LogprobEntry>? ReleasePending(long released, bool dropRest)
    {
        if (_pending.Count == 0) return null;
        List<LogprobEntry>? result = null;
        var taken = 0;
        while (taken < _pending.Count && _pending[taken].Start < released)
        {
            (result ??= []).Add(_pending[taken].Entry);
            taken++;
        }
        if (dropRest) _pending.Clear();
        else _pending.RemoveRange(0, taken);
        return result;
    }

    private LogprobEntry Entry(int token, float? logprob)
    {
        var top = Sampler.TopLogprobs;
        var list = top.Length == 0 ? [] : new TopLogprobEntry[top.Length];
        for (var i = 0; i < top.Length; i++)
            list[i] = new TopLogprobEntry(top[i].Token, _texts.Text(top[i].Token), top[i].Logprob, _texts.Bytes(top[i].Token));
        // The first prompt token has nothing before it, hence no alternatives either.
        if (logprob is null) list = [];
        return new LogprobEntry(token, _texts.Text(token), logprob, _texts.Bytes(token), list);
    }
}
