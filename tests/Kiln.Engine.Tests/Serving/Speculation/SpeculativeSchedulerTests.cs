using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Serving.Speculation;

namespace Kiln.Engine.Tests.Serving.Speculation;

/// <summary>
/// Speculation in the scheduler over the deterministic fake model, which checks that every slot is
/// fed consecutive positions continuing its cache (so a rollback must truncate): greedy output,
/// stops, max_tokens, logprobs and streaming are the same as without speculation.
/// </summary>
public class SpeculativeSchedulerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // The prompt repeats "abcdefgh " so its n-grams predict the model's next bytes until the space,
    // where the model says 'i' instead (a rejection).
    private const string Prompt = "abcdefgh abcdefgh abcd";

    private static GenerationRequest Request(string prompt, int? maxTokens, params string[] stop) =>
        new(FakeTokenizer.Bytes(prompt)) { MaxTokens = maxTokens, Sampling = SamplingParams.Greedy, Stop = stop };

    public static TheoryData<string> Modes() => ["ngram", "draft-agrees", "draft-disagrees"];

    private static (Scheduler Scheduler, FakeModel Target) Speculating(string mode, int draftTokens = 4, int maxBatchSize = 8)
    {
        var target = new FakeModel();
        SpeculationOptions speculation = mode switch
        {
            "ngram" => new() { DraftTokens = draftTokens, NgramLength = 2 },
            "draft-agrees" => new() { DraftTokens = draftTokens, DraftModel = new FakeModel() },
            // A draft that predicts two bytes ahead: every draft is wrong.
            _ => new() { DraftTokens = draftTokens, DraftModel = new FakeModel { Next = t => t < 254 ? t + 2 : 'a' } },
        };
        return (new Scheduler(target, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = maxBatchSize, Speculation = speculation }), target);
    }

    private static async Task<GenerationResult> Run(Scheduler s, GenerationRequest r) => await s.Submit(r).CollectAsync().WaitAsync(Timeout);

    public static TheoryData<string, int, string[], bool> Cases()
    {
        var data = new TheoryData<string, int, string[], bool>();
        foreach (var mode in (string[])["ngram", "draft-agrees", "draft-disagrees"])
        {
            data.Add(mode, 40, [], false);
            data.Add(mode, 6, [], true); // max_tokens in the middle of a run of drafts
            data.Add(mode, 40, ["hij"], true); // a stop string inside kept drafts
            data.Add(mode, 40, ["fg"], false); // a stop string within kept drafts alone
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Greedy_output_logprobs_and_usage_match_decoding_without_speculation(string mode, int maxTokens, string[] stop, bool logprobs)
    {
        var request = Request(Prompt, maxTokens, stop) with { Sampling = SamplingParams.Greedy with { Logprobs = logprobs, TopLogprobs = logprobs ? 2 : 0 } };
        using var plain = new Scheduler(new FakeModel(), new FakeTokenizer());
        var (speculating, _) = Speculating(mode);
        using var __ = speculating;
        var expected = await Run(plain, request);
        var actual = await Run(speculating, request);
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.Finish, actual.Finish);
        Assert.Equal(expected.CompletionTokens, actual.CompletionTokens);
        Assert.Equal(Describe(expected.Logprobs), Describe(actual.Logprobs));
        Assert.True(speculating.Speculation!.DraftTokens > 0, "nothing was proposed");
    }

    private static string Describe(IReadOnlyList<LogprobEntry>? entries) => entries is null ? "none" :
        string.Join(" ", entries.Select(e => $"{e.Id}:{e.Logprob:R}[{string.Join(",", e.Top.Select(t => $"{t.Id}:{t.Logprob:R}"))}]"));

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Streamed_events_arrive_in_order_and_add_up_to_the_whole_output(string mode)
    {
        var (s, _) = Speculating(mode);
        using var __ = s;
        using var plain = new Scheduler(new FakeModel(), new FakeTokenizer());
        var request = Request(Prompt, 30);
        var expected = await Run(plain, request);
        var text = new System.Text.StringBuilder();
        var counts = new List<int>();
        await foreach (var e in s.Submit(request).Events.ReadAllAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            text.Append(e.Text);
            counts.Add(e.CompletionTokens);
        }
        Assert.Equal(expected.Text, text.ToString());
        Assert.Equal(counts.Order(), counts);
        Assert.Equal(expected.CompletionTokens, counts[^1]);
    }

    [Fact]
    public async Task Rejected_drafts_are_truncated_and_their_positions_fed_again()
    {
        var (s, target) = Speculating("ngram");
        using var __ = s;
        var r = await Run(s, Request(Prompt, 12));
        Assert.Equal("efghijklmnop", r.Text);
        var m = s.Speculation!;
        Assert.True(m.AcceptedTokens > 0 && m.AcceptedTokens < m.DraftTokens, $"{m.AcceptedTokens} of {m.DraftTokens} accepted");
        // After the prompt (22 tokens, 'd' last) and 'e': "fgh " proposed, "fgh" kept and the space
        // replaced by 'i', so the slot's cache is cut back to the kept prefix (positions 0..25).
        var slot = target.Steps[0][0].Slot;
        Assert.Contains((slot, 26), target.Truncations);
    }

    [Fact]
    public async Task Concurrent_sequences_speculate_in_one_batch_and_each_matches_its_plain_run()
    {
        var (s, target) = Speculating("ngram", draftTokens: 3, maxBatchSize: 4);
        using var __ = s;
        using var plain = new Scheduler(new FakeModel(), new FakeTokenizer());
        string[] prompts = ["abcdefgh abcdefgh abcd", "mnopq mnop", "xyz abc xy", "hello hel", "abab"];
        var requests = prompts.Select(p => Request(p, 10)).ToArray();
        var expected = await Task.WhenAll(requests.Select(r => Run(plain, r)));
        var actual = await Task.WhenAll(s.SubmitMany(requests).Select(g => g.CollectAsync().WaitAsync(Timeout)));
        Assert.Equal(expected.Select(e => e.Text), actual.Select(a => a.Text));
        // Some step carried drafts of two sequences together, beside their decode rows.
        Assert.Contains(target.Steps, step => step.Select(row => row.Slot).Distinct().Count() > 1 && step.Length > 4);
    }

    [Fact]
    public async Task Metrics_count_drafts_proposed_and_accepted()
    {
        var (s, _) = Speculating("draft-agrees");
        using var __ = s;
        await Run(s, Request("a", 9));
        var m = s.Speculation!;
        // The draft always agrees: each step keeps its 4 drafts (the last capped by max_tokens).
        Assert.Equal(m.DraftTokens, m.AcceptedTokens);
        Assert.Equal(1.0, m.AcceptanceRate);
        Assert.True(m.Drafts >= 2, $"{m.Drafts} drafts");
        Assert.Equal(0, m.ProposalFailures);
    }

    [Fact]
    public async Task A_failing_draft_model_costs_speculation_not_the_request()
    {
        var draft = new FakeModel { FailWhen = _ => true };
        using var s = new Scheduler(new FakeModel(), new FakeTokenizer(), new SchedulerOptions { Speculation = new() { DraftTokens = 2, DraftModel = draft } });
        var r = await Run(s, Request("a", 5));
        Assert.Equal("bcdef", r.Text);
        Assert.True(s.Speculation!.ProposalFailures > 0);
    }

    [Fact]
    public void Options_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeculationOptions { DraftTokens = 0, NgramLength = 2 }.Validate());
        Assert.Throws<ArgumentException>(() => new SpeculationOptions { DraftTokens = 2 }.Validate());
        Assert.Throws<ArgumentException>(() => new SpeculationOptions { DraftTokens = 2, NgramLength = 2, DraftModel = new FakeModel() }.Validate());
        // A draft model over another vocabulary cannot propose for this target.
        var other = new OtherVocabModel();
        Assert.Throws<ArgumentException>(() => new Scheduler(new FakeModel(), new FakeTokenizer(),
            new SchedulerOptions { Speculation = new() { DraftTokens = 2, DraftModel = other } }));
    }

    private sealed class OtherVocabModel : Engine.Models.ILanguageModel
    {
        public Engine.Models.ModelInfo Info { get; } = new("fake", "other", 100, 512, 8);
        public ReadOnlySpan<float> Forward(Engine.Models.Batch batch) => throw new NotSupportedException();
        public void Truncate(int slot, int fromPosition) { }
        public void Dispose() { }
    }
}
