using Kiln.Server.Gateway;
using Kiln.Server.Logging;

namespace Kiln.Server.Tests.Logging;

public class RandomIdsTests
{
    [Fact]
    public void Ids_are_the_prefix_and_lowercase_hex_digits_and_differ()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => RequestIds.New()).ToList();
        Assert.All(ids, id =>
        {
            Assert.Equal(28, id.Length);
            Assert.StartsWith("req_", id);
            Assert.All(id[4..], c => Assert.True(char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c), id));
            // The ID is one a client could also have sent: the middleware accepts it as it is.
            Assert.Equal(id, RequestIds.Accept(id));
        });
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Over a thousand IDs every hex digit shows up: the digits are not stuck or from a short alphabet.
        Assert.Equal(16, ids.SelectMany(id => id[4..]).Distinct().Count());

        var key = RequestMeter.NewUsageKey();
        Assert.Matches("^[0-9a-f]{32}$", key);
        Assert.NotEqual(key, RequestMeter.NewUsageKey());
        Assert.Matches("^cmpl-[0-9a-f]{24}$", RandomIds.New("cmpl-", 24));
    }

    [Fact]
    public void Ids_drawn_across_block_refills_and_threads_differ()
    {
        // Several threads, each drawing well past one block of random bytes.
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 500; i++) ids.Add(RandomIds.New("", 32));
        });
        Assert.Equal(2000, ids.Distinct().Count());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(66)]
    public void A_bad_digit_count_is_refused(int digits) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomIds.New("x", digits));
}
