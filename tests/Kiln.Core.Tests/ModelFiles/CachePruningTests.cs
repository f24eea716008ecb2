using Kiln.Core.ModelFiles;

namespace Kiln.Core.Tests.ModelFiles;

public class CachePruningTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CachedFile F(string name, long size, int usedMinutesAgo, bool inUse = false) =>
        new(name, size, T0.AddMinutes(-usedMinutesAgo), inUse);

    private static string[] Names(IReadOnlyList<CachedFile> victims) => [.. victims.Select(v => v.Path)];

    [Fact]
    public void A_cache_within_its_bound_keeps_everything()
    {
        Assert.Empty(CachePruning.Victims([F("a", 40, 1), F("b", 60, 2)], 100));
    }

    [Fact]
    public void Least_recently_used_files_go_first_until_the_bound_holds()
    {
        var files = new[] { F("new", 50, 1), F("oldest", 50, 30), F("middle", 50, 10), F("older", 50, 20) };
        Assert.Equal(["oldest", "older"], Names(CachePruning.Victims(files, 100)));
        Assert.Equal(["oldest"], Names(CachePruning.Victims(files, 150)));
    }

    [Fact]
    public void A_file_in_use_is_never_deleted_however_old()
    {
        var files = new[] { F("running", 50, 100, inUse: true), F("recent", 50, 1), F("old", 50, 10) };
        Assert.Equal(["old"], Names(CachePruning.Victims(files, 100)));
    }

    [Fact]
    public void When_files_in_use_alone_exceed_the_bound_every_other_file_goes_and_they_stay()
    {
        var files = new[] { F("a", 80, 5, inUse: true), F("b", 80, 1, inUse: true), F("c", 10, 50) };
        Assert.Equal(["c"], Names(CachePruning.Victims(files, 100)));
        Assert.Equal(["c"], Names(CachePruning.Victims(files, 0)));
    }

    [Fact]
    public void Equal_last_use_breaks_ties_by_path_so_the_choice_is_stable()
    {
        var files = new[] { F("b", 10, 5), F("a", 10, 5) };
        Assert.Equal(["a"], Names(CachePruning.Victims(files, 10)));
    }

    [Fact]
    public void A_negative_bound_is_a_bug()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CachePruning.Victims([], -1));
    }
}
