using Kiln.Core.ModelFiles;

namespace Kiln.Core.Tests.ModelFiles;

public class DownloadFactsTests
{
    private static readonly string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"")]
    [InlineData("W/\"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\"")]
    [InlineData("\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void A_sha256_is_read_from_an_etag_however_it_is_quoted(string value) =>
        Assert.Equal(Hex, PublishedDigest.FromValue(value));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("\"d41d8cd98f00b204e9800998ecf8427e\"")] // an MD5 or a version tag says nothing about the content
    [InlineData("\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\"")]
    public void Other_etags_publish_no_digest(string? value) => Assert.Null(PublishedDigest.FromValue(value));

    [Fact]
    public void The_linked_etag_of_a_hub_redirect_wins_over_a_plain_etag()
    {
        var other = new string('f', 64);
        var headers = new Dictionary<string, string> { ["X-Linked-ETag"] = $"\"{Hex}\"", ["ETag"] = $"\"{other}\"" };
        Assert.Equal(Hex, PublishedDigest.Find(h => headers.GetValueOrDefault(h)));
        headers.Remove("X-Linked-ETag");
        Assert.Equal(other, PublishedDigest.Find(h => headers.GetValueOrDefault(h)));
        Assert.Null(PublishedDigest.Find(_ => null));
    }

    [Fact]
    public void The_rate_is_measured_over_the_recent_window_and_gives_the_time_left()
    {
        var t0 = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var rate = new TransferRate(TimeSpan.FromSeconds(5));
        rate.Add(t0, 1_000_000); // resumed here: kept bytes are not speed
        Assert.Null(rate.BytesPerSecond);
        rate.Add(t0.AddSeconds(2), 3_000_000);
        Assert.Equal(1_000_000, rate.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(7), rate.Remaining(10_000_000));
        // Ten seconds later at a slower pace: the old samples leave the window.
        for (var s = 3; s <= 12; s++) rate.Add(t0.AddSeconds(s), 3_000_000 + (s - 2) * 100_000);
        Assert.Equal(100_000, rate.BytesPerSecond!.Value, 3);
        Assert.Null(rate.Remaining(null));
    }

    [Fact]
    public void A_download_that_starts_over_forgets_its_rate()
    {
        var t0 = DateTimeOffset.UnixEpoch;
        var rate = new TransferRate();
        rate.Add(t0, 0);
        rate.Add(t0.AddSeconds(1), 5_000);
        rate.Add(t0.AddSeconds(2), 0);
        Assert.Null(rate.BytesPerSecond);
    }

    [Theory]
    [InlineData(0, 100, 10.0, 10)]
    [InlineData(95, 100, 10.0, 1)]
    [InlineData(100, 100, 10.0, 0)]
    public void The_eta_rounds_up_to_whole_seconds(long done, long total, double rate, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), TransferRate.Eta(done, total, rate));

    [Fact]
    public void No_eta_without_a_rate_or_a_total()
    {
        Assert.Null(TransferRate.Eta(5, null, 10));
        Assert.Null(TransferRate.Eta(5, 100, null));
        Assert.Null(TransferRate.Eta(5, 100, 0));
    }
}
