using Kiln.Core.ModelFiles;

namespace Kiln.Core.Tests.ModelFiles;

public class ModelCacheLayoutTests
{
    private static readonly string Sha = new('a', 64);

    [Fact]
    public void Files_are_keyed_by_digest_under_the_sha256_folder()
    {
        Assert.Equal($"/var/cache/kiln/sha256/{Sha}.gguf", ModelCacheLayout.FileFor("/var/cache/kiln", Sha));
        Assert.Equal(ModelCacheLayout.FileFor("/var/cache/kiln", Sha), ModelCacheLayout.FileFor("/var/cache/kiln/", Sha));
        var file = ModelCacheLayout.FileFor("/c", Sha);
        Assert.Equal(file + ".partial", ModelCacheLayout.PartialOf(file));
        Assert.Equal(file + ".lock", ModelCacheLayout.LockOf(file));
        Assert.Equal(file + ".lease-r-1-42", ModelCacheLayout.LeaseOf(file, "r-1-42"));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("0123456789abcdef", false)]
    [InlineData("g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_lowercase_hex_of_64_digits_is_a_digest(string? hex, bool valid)
    {
        Assert.Equal(valid, ModelCacheLayout.IsSha256(hex));
    }

    [Fact]
    public void The_distribution_defaults_to_shared_with_a_share_download_for_remote_runtimes_and_local_otherwise()
    {
        Assert.Equal(ModelDistribution.Local, ModelDistributions.Resolve(null, hasSharePath: false, remoteRuntime: false));
        Assert.Equal(ModelDistribution.Download, ModelDistributions.Resolve(null, hasSharePath: false, remoteRuntime: true));
        Assert.Equal(ModelDistribution.Shared, ModelDistributions.Resolve(null, hasSharePath: true, remoteRuntime: true));
        Assert.Equal(ModelDistribution.Download, ModelDistributions.Resolve(ModelDistribution.Download, hasSharePath: false, remoteRuntime: false));
        Assert.True(ModelDistributions.TryParse("download", out var d) && d == ModelDistribution.Download);
        Assert.False(ModelDistributions.TryParse("Download", out _));
    }
}
