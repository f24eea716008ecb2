using Kiln.Engine.Serving.Speculation;

namespace Kiln.Engine.Tests.Serving.Speculation;

public class NgramLookupTests
{
    private static int[] Propose(int[] tokens, int n, int k)
    {
        var drafts = new int[k];
        var count = NgramLookup.Propose(tokens, n, drafts);
        return drafts[..count];
    }

    [Fact]
    public void Proposes_what_followed_the_latest_earlier_occurrence()
    {
        // "1 2" occurs at 0 (then 3 4 5) and at 5 (then 9): the latest earlier one wins.
        int[] tokens = [1, 2, 3, 4, 5, 1, 2, 9, 7, 1, 2];
        Assert.Equal(new[] { 9, 7 }, Propose(tokens, 2, 2));
        // The latest runs into the end after 4 tokens; the one at 0 is followed by 8.
        Assert.Equal(new[] { 9, 7, 1, 2 }, Propose(tokens, 2, 4));
        Assert.Equal(new[] { 3, 4, 5, 1, 2, 9, 7, 1 }, Propose(tokens, 2, 8));
    }

    [Fact]
    public void Proposes_nothing_without_an_earlier_occurrence_or_room()
    {
        Assert.Empty(Propose([1, 2, 3, 4], 2, 4));
        Assert.Empty(Propose([1, 2], 2, 4));
        Assert.Empty(Propose([1, 2, 1, 2], 2, 0));
    }

    [Fact]
    public void A_run_of_one_token_proposes_more_of_it()
    {
        Assert.Equal(new[] { 5, 5, 5 }, Propose([5, 5, 5, 5, 5], 1, 3));
        Assert.Equal(new[] { 5, 5, 5, 5 }, Propose([5, 5, 5, 5, 5], 1, 8));
        // The occurrence may overlap the tail: 5 5 at 2 is followed by the last 5.
        Assert.Equal(new[] { 5 }, Propose([7, 5, 5, 5], 2, 3));
    }

    [Fact]
    public void Rejects_a_non_positive_length()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NgramLookup.Propose([1, 2, 3], 0, new int[2]));
    }
}
