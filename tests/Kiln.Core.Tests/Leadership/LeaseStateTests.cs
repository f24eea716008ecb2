using Kiln.Core.Leadership;

namespace Kiln.Core.Tests.Leadership;

public class LeaseStateTests
{
    private static readonly LeaseOptions Options = LeaseOptions.Default;
    private readonly FakeClock _clock = new();

    private LeaseStep Answer(LeaseState state, bool held, long epoch, TimeSpan? latency = null)
    {
        var sent = _clock.UtcNow;
        _clock.Advance(latency ?? TimeSpan.FromMilliseconds(5));
        return state.Answered(Options, sent, _clock.UtcNow, held, epoch);
    }

    [Fact]
    public void A_held_lease_starts_leading_until_the_ttl_less_the_margin_from_when_the_attempt_was_sent()
    {
        var sent = _clock.UtcNow;
        var step = Answer(LeaseState.Following, held: true, epoch: 3);
        Assert.Equal(LeaseTransition.Acquired, step.Transition);
        Assert.Equal((3L, sent + Options.Ttl - Options.StepDownMargin), (step.State.Epoch, step.State.LeadsUntil));
        Assert.True(step.State.IsLeading(_clock.UtcNow));
    }

    [Fact]
    public void A_lease_held_elsewhere_leaves_a_follower_following()
    {
        var step = Answer(LeaseState.Following, held: false, epoch: 3);
        Assert.Equal((LeaseTransition.None, LeaseState.Following), (step.Transition, step.State));
    }

    [Fact]
    public void Renewals_in_the_same_epoch_extend_the_term_without_a_transition()
    {
        var state = Answer(LeaseState.Following, true, 1).State;
        for (var i = 0; i < 10; i++)
        {
            _clock.Advance(Options.RenewInterval);
            var sent = _clock.UtcNow;
            var step = Answer(state, true, 1);
            Assert.Equal(LeaseTransition.None, step.Transition);
            Assert.Equal(sent + Options.LeadFor, step.State.LeadsUntil);
            state = step.State;
        }
    }

    [Fact]
    public void A_leader_whose_renewals_fail_stops_before_the_lease_can_lapse_in_the_store()
    {
        var sent = _clock.UtcNow;
        var state = Answer(LeaseState.Following, true, 1).State;
        // The store sets the expiry no earlier than the send time plus the TTL.
        var earliestExpiry = sent + Options.Ttl;
        while (true)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            var step = state.Checked(_clock.UtcNow);
            if (step.Transition == LeaseTransition.Lost)
            {
                Assert.Equal(LeaseState.Following, step.State);
                break;
            }
            Assert.True(step.State.IsLeading(_clock.UtcNow));
        }
        Assert.True(_clock.UtcNow <= earliestExpiry - Options.StepDownMargin + TimeSpan.FromMilliseconds(100));
        Assert.True(_clock.UtcNow < earliestExpiry);
    }

    [Fact]
    public void Checking_the_clock_before_the_deadline_changes_nothing()
    {
        var state = Answer(LeaseState.Following, true, 1).State;
        Assert.Equal(new LeaseStep(state, LeaseTransition.None), state.Checked(_clock.UtcNow));
        Assert.Equal(LeaseTransition.None, LeaseState.Following.Checked(_clock.UtcNow).Transition);
    }

    [Fact]
    public void An_answer_that_comes_after_the_term_would_have_ended_does_not_lead()
    {
        var step = Answer(LeaseState.Following, true, 1, latency: Options.LeadFor);
        Assert.Equal((LeaseTransition.None, false), (step.Transition, step.State.IsLeading(_clock.UtcNow)));
        var leading = Answer(LeaseState.Following, true, 1).State;
        Assert.Equal(LeaseTransition.Lost, Answer(leading, true, 1, latency: Options.LeadFor).Transition);
    }

    [Fact]
    public void Losing_the_lease_or_finding_a_new_epoch_ends_the_term()
    {
        var leading = Answer(LeaseState.Following, true, 1).State;
        Assert.Equal((LeaseTransition.Lost, LeaseState.Following), (Answer(leading, false, 2) is var lost ? (lost.Transition, lost.State) : default));
        // The lease lapsed and came back to this holder in a new epoch: whatever it did in between is
        // suspect, so the term ends and the next answer starts a new one.
        var moved = Answer(leading, true, 2);
        Assert.Equal(LeaseTransition.Lost, moved.Transition);
        var again = Answer(moved.State, true, 2);
        Assert.Equal((LeaseTransition.Acquired, 2L), (again.Transition, again.State.Epoch));
    }

    [Fact]
    public void The_defaults_are_valid_and_bad_timings_are_named()
    {
        Assert.Null(LeaseOptions.Default.Validate());
        Assert.Contains("renew interval", new LeaseOptions { RenewInterval = TimeSpan.FromSeconds(5) }.Validate());
        Assert.Contains("TTL", new LeaseOptions { Ttl = TimeSpan.Zero }.Validate());
        Assert.Contains("margin", new LeaseOptions { StepDownMargin = TimeSpan.Zero }.Validate());
        // A dead leader is replaced within 10 s.
        Assert.True(LeaseOptions.Default.Ttl + LeaseOptions.Default.RenewInterval < TimeSpan.FromSeconds(10));
    }
}
