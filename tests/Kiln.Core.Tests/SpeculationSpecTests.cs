using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Replicas;

namespace Kiln.Core.Tests;

/// <summary>The speculation fields of a deployment and of a replica's command line.</summary>
public class SpeculationSpecTests
{
    private static DeploymentSpec Create(DeploymentSpecPatch patch) =>
        DeploymentSpecs.Create(patch with { BaseModel = "accounts/a/models/m" });

    [Fact]
    public void A_draft_model_or_an_ngram_length_with_a_token_count_is_valid()
    {
        var draft = Create(new() { DraftModel = "accounts/a/models/small", DraftTokenCount = 4 });
        Assert.Equal(("accounts/a/models/small", 4, (int?)null), (draft.DraftModel, draft.DraftTokenCount, draft.NgramSpeculationLength));
        var ngram = Create(new() { NgramSpeculationLength = 3, DraftTokenCount = 8 });
        Assert.True(Speculation.IsEnabled(ngram));
        Assert.False(Speculation.IsEnabled(Create(new())));
    }

    [Theory]
    [InlineData("accounts/a/models/d", 3, null, "ngramSpeculationLength", "cannot be used together with draftModel")]
    [InlineData("accounts/a/models/d", null, null, "draftTokenCount", "is required with draftModel or ngramSpeculationLength")]
    [InlineData(null, 3, null, "draftTokenCount", "is required with draftModel or ngramSpeculationLength")]
    [InlineData(null, null, 4, "draftTokenCount", "needs draftModel or ngramSpeculationLength")]
    [InlineData(null, 17, 3, "ngramSpeculationLength", "must be between 1 and 16, got 17")]
    [InlineData("llama", null, 4, "draftModel", "\"llama\"")]
    public void A_bad_combination_names_the_field_and_why(string? draft, int? ngram, int? tokens, string field, string why)
    {
        var e = Assert.Throws<KilnError>(() => Create(new() { DraftModel = draft, NgramSpeculationLength = ngram, DraftTokenCount = tokens }));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Contains(e.Violations, v => v.Field == field && v.Description.Contains(why));
    }

    [Fact]
    public void Too_many_draft_tokens_is_refused()
    {
        var e = Assert.Throws<KilnError>(() => Create(new() { NgramSpeculationLength = 2, DraftTokenCount = 17 }));
        Assert.Contains(new FieldViolation("draftTokenCount", "must be between 1 and 16, got 17"), e.Violations);
    }

    [Fact]
    public void Only_Kiln_engine_takes_the_speculation_fields()
    {
        var e = Assert.Throws<KilnError>(() => Create(new() { Engine = "vllm", NgramSpeculationLength = 3, DraftTokenCount = 4 }));
        Assert.Contains(e.Violations, v => v.Field == "draftTokenCount" && v.Description.Contains("engine \"vllm\"") && v.Description.Contains("engineArgs"));
        Assert.True(Speculation.IsEnabled(Create(new() { Engine = "kiln", NgramSpeculationLength = 3, DraftTokenCount = 4 })));
        Assert.Equal("vllm", Create(new() { Engine = "vllm" }).Engine);
    }

    [Fact]
    public void Zero_and_empty_turn_speculation_off_and_a_change_restarts_replicas()
    {
        var on = Create(new() { NgramSpeculationLength = 2, DraftTokenCount = 4 });
        var off = DeploymentSpecs.Update(on, new() { NgramSpeculationLength = 0, DraftTokenCount = 0 });
        Assert.False(Speculation.IsEnabled(off));
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(on, off));
        var masked = DeploymentSpecs.Update(on, new(), ["ngramSpeculationLength", "draftTokenCount"]);
        Assert.False(Speculation.IsEnabled(masked));
        var drafted = DeploymentSpecs.Update(off, new() { DraftModel = "accounts/a/models/d", DraftTokenCount = 2 });
        Assert.Equal("accounts/a/models/d", drafted.DraftModel);
        Assert.Null(DeploymentSpecs.Update(drafted, new() { DraftModel = "", DraftTokenCount = 0 }).DraftModel);
    }

    [Fact]
    public void Replica_flags_round_trip()
    {
        var draft = new ReplicaArgs { ModelPath = "m.gguf", DraftModel = "/models/d.gguf", DraftTokens = 4 };
        Assert.Equal(draft, ReplicaArgs.Parse(draft.Format()));
        var ngram = new ReplicaArgs { ModelPath = "m.gguf", NgramSpeculation = 3, DraftTokens = 5 };
        Assert.Equal(ngram, ReplicaArgs.Parse(ngram.Format()));
        Assert.Contains("--ngram-speculation", ngram.Format());
        Assert.NotEqual(ngram, ngram with { DraftTokens = 6 });
    }

    [Theory]
    [InlineData(new[] { "--draft-model", "d.gguf", "--ngram-speculation", "2", "--draft-tokens", "4" }, "--ngram-speculation cannot be used together with --draft-model.")]
    [InlineData(new[] { "--ngram-speculation", "2" }, "--draft-tokens is required with --draft-model or --ngram-speculation.")]
    [InlineData(new[] { "--draft-tokens", "4" }, "--draft-tokens needs --draft-model or --ngram-speculation.")]
    [InlineData(new[] { "--ngram-speculation", "2", "--draft-tokens", "0" }, "--draft-tokens must be between 1 and 16, got 0.")]
    [InlineData(new[] { "--draft-model", " ", "--draft-tokens", "2" }, "--draft-model must name a GGUF file.")]
    public void Bad_replica_flags_are_errors_naming_them(string[] flags, string message)
    {
        var e = Assert.Throws<ReplicaArgsException>(() => ReplicaArgs.Parse(["replica", "--model", "m.gguf", .. flags]));
        Assert.Contains(message, e.Errors.Select(x => x.Message));
    }
}
