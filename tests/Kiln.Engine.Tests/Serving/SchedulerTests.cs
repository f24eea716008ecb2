using System.Text;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;

namespace Kiln.Engine.Tests.Serving;

public class SchedulerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static GenerationRequest Request(string prompt, int? maxTokens, params string[] stop) =>
        new(FakeTokenizer.Bytes(prompt)) { MaxTokens = maxTokens, Sampling = SamplingParams.Greedy, Stop = stop };

    private static Task<GenerationResult> Collect(Generation g) =>
        g.CollectAsync().WaitAsync(Timeout);

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(2);
        }
    }

    [Fact]
    public async Task Generates_until_max_tokens_then_reports_length()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer());
        var r = await Collect(s.Submit(Request("a", 5)));
        Assert.Equal("bcdef", r.Text);
        Assert.Equal(FinishReason.Length, r.Finish);
        Assert.Equal(5, r.CompletionTokens);
        Assert.Equal(1, r.PromptTokens);
    }

    [Fact]
    public async Task End_of_sequence_token_stops_without_text()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer());
        var r = await Collect(s.Submit(Request("w", 50)));
        Assert.Equal("xyz", r.Text);
        Assert.Equal(FinishReason.Stop, r.Finish);

        var eog = new FakeModel { Next = t => t == 'c' ? FakeTokenizer.ImEnd : FakeModel.DefaultNext(t) };
        using var s2 = new Scheduler(eog, new FakeTokenizer());
        var r2 = await Collect(s2.Submit(Request("a", 50)));
        Assert.Equal("bc", r2.Text);
        Assert.Equal(FinishReason.Stop, r2.Finish);
    }

    [Fact]
    public async Task Ignore_eos_runs_through_end_tokens_to_max_tokens_and_still_honours_stops()
    {
        // 'z' predicts EOS and EOS predicts 'a': the end token is fed back and yields no text.
        var model = new FakeModel { Next = t => t == 'c' ? FakeTokenizer.ImEnd : FakeModel.DefaultNext(t) };
        using var s = new Scheduler(model, new FakeTokenizer());
        var r = await Collect(s.Submit(Request("w", 6) with { IgnoreEos = true }));
        Assert.Equal("xyzab", r.Text);
        Assert.Equal(FinishReason.Length, r.Finish);
        Assert.Equal(6, r.CompletionTokens);
        Assert.Contains(model.Steps.SelectMany(step => step), row => row.Token == FakeTokenizer.Eos);

        var eog = await Collect(s.Submit(Request("a", 5) with { IgnoreEos = true }));
        Assert.Equal("bcab", eog.Text); // 'c' predicts the end-of-generation token, which predicts 'a'
        Assert.Equal(FinishReason.Length, eog.Finish);

        var stopped = await Collect(s.Submit(Request("w", 20, "ab") with { IgnoreEos = true }));
        Assert.Equal("xyz", stopped.Text);
        Assert.Equal(FinishReason.Stop, stopped.Finish);
    }

    [Fact]
    public async Task Without_streaming_the_output_is_handed_over_once_as_the_streamed_one_would_be()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer());
        var sampling = SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 1 };
        var streamed = await Collect(s.Submit(Request("a", 20, "gh") with { Sampling = sampling }));
        var held = s.Submit(Request("a", 20, "gh") with { Sampling = sampling, Stream = false });
        var events = new List<GenerationEvent>();
        await foreach (var e in held.Events.ReadAllAsync()) events.Add(e);

        var only = Assert.Single(events);
        Assert.Equal("bcdef", streamed.Text);
        Assert.Equal(streamed.Text, only.Text);
        Assert.Equal(FinishReason.Stop, only.Finish);
        Assert.Equal(streamed.CompletionTokens, only.CompletionTokens);
        Assert.Equal(streamed.Logprobs!.Select(l => l.Token), only.Logprobs!.Select(l => l.Token));
    }

    [Fact]
    public async Task Many_concurrent_requests_all_complete_correctly()
    {
        var model = new FakeModel(maxSlots: 4);
        using var s = new Scheduler(model, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = 4, MaxQueue = 64 });
        var letters = "abcdefghijklmnopqrst";
        // Queued together, so the first admission fills every slot.
        var gens = s.SubmitMany([.. letters.Select(c => Request(c.ToString(), 4))]);
        var results = await Task.WhenAll(gens.Select(Collect));
        for (var i = 0; i < letters.Length; i++)
        {
            var expected = new string([.. Enumerable.Range(1, 4).Select(k => (char)(letters[i] + k))]);
            Assert.Equal(expected, results[i].Text);
        }
        Assert.All(model.Steps, step => Assert.True(step.Select(r => r.Slot).Distinct().Count() <= 4));
        Assert.Contains(model.Steps, step => step.Select(r => r.Slot).Distinct().Count() == 4);
        Assert.Equal(0, s.Metrics.ActiveSequences);
        Assert.Equal(0, s.Metrics.QueueDepth);
    }

    [Fact]
    public async Task A_request_joins_a_running_batch()
    {
        // Steps take a millisecond so the first sequence is still running when the second is done.
        var model = new FakeModel(contextLength: 4096) { Next = t => t < 256 ? (t + 1) & 0x7F : 'a', StepDelay = TimeSpan.FromMilliseconds(1) };
        using var s = new Scheduler(model, new FakeTokenizer());
        using var cts = new CancellationTokenSource();
        model.PauseAt(10);
        var first = s.Submit(Request("\0", null), cts.Token);
        await WaitUntil(() => model.Paused);
        var secondGen = s.Submit(Request("a", 3));
        model.Resume();
        var second = await Collect(secondGen);
        Assert.Equal("bcd", second.Text);
        // The first is still going (the newcomer's slot is freed just after its last event).
        await WaitUntil(() => s.Metrics.ActiveSequences == 1);
        Assert.Contains(model.Steps.ToArray(), step => step.Select(r => r.Slot).Distinct().Count() == 2);

        // The first sequence was not disturbed by the newcomer.
        cts.Cancel();
        var text = new StringBuilder();
        while (first.Events.TryRead(out var e)) text.Append(e.Text);
        Assert.True(text.Length >= 10);
        var expected = new string([.. Enumerable.Range(1, text.Length).Select(i => (char)(i & 0x7F))]);
        Assert.Equal(expected, text.ToString());
    }

    [Fact]
    public async Task Cancellation_frees_the_slot_at_once()
    {
        var model = new FakeModel(contextLength: 4096, maxSlots: 1) { Next = _ => 'a' };
        using var s = new Scheduler(model, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = 1 });
        using var cts = new CancellationTokenSource();
        model.PauseAt(3);
        var g = s.Submit(Request("a", null), cts.Token);
        await WaitUntil(() => model.Paused);
        cts.Cancel();
        model.Resume();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Collect(g));
        await WaitUntil(() => s.Metrics.ActiveSequences == 0);
        Assert.Equal([(0, 0), (0, 0)], model.Truncations); // on admission, then on cancellation
        Assert.Equal(0, model.CachedTokens(0));
        Assert.Equal(1, s.Metrics.Finished(FinishReason.Cancelled));
        Assert.Equal(4, model.StepCount); // nothing ran after the cancellation was seen

        var next = await Collect(s.Submit(Request("b", 2)));
        Assert.Equal("aa", next.Text);
    }

    [Fact]
    public async Task Cancelling_a_queued_request_removes_it()
    {
        var model = new FakeModel(maxSlots: 1) { Next = _ => 'a' };
        using var s = new Scheduler(model, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = 1, MaxQueue = 2 });
        model.PauseAt(0);
        var running = s.Submit(Request("a", 30));
        await WaitUntil(() => model.Paused);
        using var cts = new CancellationTokenSource();
        var queued = s.Submit(Request("b", 5), cts.Token);
        Assert.Equal(1, s.Metrics.QueueDepth);
        cts.Cancel();
        model.Resume();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Collect(queued));
        await WaitUntil(() => s.Metrics.QueueDepth == 0);
        Assert.Equal(30, (await Collect(running)).CompletionTokens);
    }

    [Fact]
    public async Task A_full_queue_rejects_new_requests()
    {
        var model = new FakeModel(maxSlots: 1) { Next = _ => 'a' };
        using var s = new Scheduler(model, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = 1, MaxQueue = 1 });
        model.PauseAt(0);
        var a = s.Submit(Request("a", 20));
        await WaitUntil(() => model.Paused);
        var b = s.Submit(Request("b", 2));
        var e = Assert.Throws<QueueFullException>(() => s.Submit(Request("c", 2)));
        Assert.Contains("queue is full", e.Message);
        // All-or-nothing: n sequences that do not all fit are refused together.
        model.Resume();
        await Collect(a);
        await Collect(b);
        Assert.Throws<QueueFullException>(() => s.SubmitMany([Request("d", 1), Request("e", 1), Request("f", 1)]));
        Assert.Equal("a", (await Collect(s.Submit(Request("c", 1)))).Text);
    }

    [Fact]
    public async Task Chunked_prefill_lets_a_short_request_finish_while_a_long_prompt_is_still_prefilling()
    {
        var model = new FakeModel(contextLength: 2048);
        using var s = new Scheduler(model, new FakeTokenizer(), new SchedulerOptions { PrefillChunk = 16 });
        model.PauseAt(2);
        var longGen = s.Submit(Request(new string('q', 1200), 3));
        await WaitUntil(() => model.Paused);
        var shortGen = s.Submit(Request("a", 4));
        model.Resume();
        Assert.Equal("bcde", (await Collect(shortGen)).Text);
        Assert.Equal("rst", (await Collect(longGen)).Text);

        var steps = model.Steps.ToArray();
        var longSlot = steps[0][0].Slot;
        var longPrefillDone = Array.FindIndex(steps, st => st.Any(r => r.Slot == longSlot && r.Position == 1199));
        var shortDone = Array.FindLastIndex(steps, st => st.Any(r => r.Slot != longSlot));
        Assert.True(shortDone < longPrefillDone, $"short finished at step {shortDone}, long prefill at {longPrefillDone}");
        // Prompt rows per step stay within the chunk; decode rows come on top.
        Assert.All(steps, st => Assert.True(st.Length <= 16 + 1, $"step of {st.Length} rows"));
    }

    [Fact]
    public async Task Stop_string_across_token_boundaries_cuts_exactly()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer());
        var r = await Collect(s.Submit(Request("a", 20, "def", "xyz")));
        Assert.Equal("bc", r.Text);
        Assert.Equal(FinishReason.Stop, r.Finish);

        // A prefix that turns out not to be a stop ("cx") is released, not lost.
        var r2 = await Collect(s.Submit(Request("a", 5, "cx")));
        Assert.Equal("bcdef", r2.Text);
        Assert.Equal(FinishReason.Length, r2.Finish);
    }

    [Fact]
    public async Task Streamed_text_never_holds_a_stop_prefix_or_half_a_character()
    {
        // Emits "x€yéz" byte by byte (all bytes distinct), then EOS.
        var script = Encoding.UTF8.GetBytes("x€yéz").Select(b => (int)b).Append(FakeTokenizer.Eos).ToArray();
        var model = new FakeModel { Next = t => t == 'S' ? script[0] : script[Array.IndexOf(script, t) + 1] };
        using var s = new Scheduler(model, new FakeTokenizer());
        var g = s.Submit(Request("S", 50, "éz"));
        var pieces = new List<string>();
        await foreach (var e in g.Events.ReadAllAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
            if (e.Text.Length > 0) pieces.Add(e.Text);
        Assert.Equal("x€y", string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Any(char.IsSurrogate) || p.Contains('\uFFFD'));
    }

    [Fact]
    public async Task Generation_stops_with_length_at_the_end_of_the_context()
    {
        var model = new FakeModel(contextLength: 10) { Next = t => t < 'y' ? t + 1 : 'a' };
        using var s = new Scheduler(model, new FakeTokenizer());
        var r = await Collect(s.Submit(Request("aaa", null)));
        Assert.Equal("bcdefgh", r.Text);
        Assert.Equal(FinishReason.Length, r.Finish);
        Assert.True(model.Steps.SelectMany(st => st).Max(row => row.Position) < 10);
    }

    [Fact]
    public void Requests_beyond_the_context_are_rejected_before_queuing()
    {
        using var s = new Scheduler(new FakeModel(contextLength: 10), new FakeTokenizer(), new SchedulerOptions { ContextSize = 64 });
        Assert.Equal(10, s.ContextSize);
        var e = Assert.Throws<RequestValidationException>(() => s.Submit(Request("aaa", 8)));
        Assert.Equal("max_tokens", e.Param);
        Assert.Contains("maximum context length is 10", e.Message);
        Assert.Equal("prompt", Assert.Throws<RequestValidationException>(() => s.Submit(Request(new string('a', 11), 0))).Param);
        Assert.Equal("prompt", Assert.Throws<RequestValidationException>(() => s.Submit(Request("", 1))).Param);
        Assert.Equal("top_logprobs", Assert.Throws<RequestValidationException>(() =>
            s.Submit(Request("a", 1) with { Sampling = new SamplingParams { TopLogprobs = 25 } })).Param);
        Assert.Equal(0, s.Metrics.QueueDepth);
    }

    [Fact]
    public async Task Echo_scores_the_prompt_with_a_null_first_logprob()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer(), new SchedulerOptions { PrefillChunk = 2 });
        var req = Request("abdd", 0) with { PromptLogprobs = true, Sampling = SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 2 } };
        var r = await Collect(s.Submit(req));
        Assert.Equal("", r.Text);
        Assert.Equal(FinishReason.Length, r.Finish);
        var p = r.PromptLogprobs!;
        Assert.Equal(["a", "b", "d", "d"], p.Select(e => e.Token));
        Assert.Null(p[0].Logprob);
        Assert.Empty(p[0].Top);
        var likely = 10 - Math.Log(Math.Exp(10) + 259);
        var unlikely = 0 - Math.Log(Math.Exp(10) + 259);
        Assert.Equal(likely, p[1].Logprob!.Value, 4);   // b after a: predicted
        Assert.Equal(unlikely, p[2].Logprob!.Value, 4); // d after b: not predicted
        Assert.Equal(unlikely, p[3].Logprob!.Value, 4);
        Assert.Equal("c", p[2].Top[0].Token);
        Assert.Equal([(byte)'c'], p[2].Top[0].Bytes);
        Assert.Equal('c', p[2].Top[0].Id);
    }

    [Fact]
    public async Task Output_logprobs_come_with_each_token()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer());
        var req = Request("a", 20, "de") with { Sampling = SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 3 } };
        var r = await Collect(s.Submit(req));
        Assert.Equal("bc", r.Text);
        // Tokens whose text starts before the cut are reported; the stop string's are not.
        Assert.Equal(["b", "c"], r.Logprobs!.Select(e => e.Token));
        Assert.All(r.Logprobs!, e => Assert.Equal(3, e.Top.Count));
        Assert.All(r.Logprobs!, e => Assert.Equal(e.Top[0].Logprob, e.Logprob));
        Assert.Equal([(byte)'b'], r.Logprobs![0].Bytes);
    }

    [Fact]
    public async Task Model_failure_ends_the_sequences_of_that_step_and_serving_continues()
    {
        var fail = true;
        var model = new FakeModel { FailWhen = b => fail && b.Tokens[0] == 'f' };
        using var s = new Scheduler(model, new FakeTokenizer());
        await Assert.ThrowsAsync<InvalidOperationException>(() => Collect(s.Submit(Request("f", 3))));
        fail = false;
        Assert.Equal("bc", (await Collect(s.Submit(Request("a", 2)))).Text);
        Assert.Equal(1, s.Metrics.Finished(FinishReason.Error));
    }

    [Fact]
    public async Task Metrics_count_tokens_finishes_and_time_to_first_token()
    {
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer());
        await Collect(s.Submit(Request("ab", 3)));
        await Collect(s.Submit(Request("x", 10)));
        Assert.Equal(3, s.Metrics.PromptTokens);
        Assert.Equal(3 + 3, s.Metrics.GeneratedTokens); // y, z, EOS
        Assert.Equal(1, s.Metrics.Finished(FinishReason.Length));
        Assert.Equal(1, s.Metrics.Finished(FinishReason.Stop));
        var (buckets, sum, count) = s.Metrics.TimeToFirstToken();
        Assert.Equal(2, count);
        Assert.True(sum >= 0);
        Assert.Equal(2, buckets[^1]);
        Assert.Equal(8, s.Metrics.MaxBatchSize);
    }
}
