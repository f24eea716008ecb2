using Kiln.Core.Errors;
using Kiln.Server.ControlPlane.Imports;

namespace Kiln.Server.Tests.ControlPlane;

public class DiskSpaceTests
{
    [Fact]
    public void A_download_may_use_the_free_space_above_the_reserve()
    {
        var disk = new DiskSpace(reserveBytes: 100, freeBytes: _ => 1_000);
        disk.Require("/data", 900);
        var e = Assert.Throws<DownloadFailedException>(() => disk.Require("/data", 901));
        Assert.Equal(StatusCode.ResourceExhausted, e.Code);
        Assert.StartsWith("no space left on device for the download: needs 901 more bytes, 900 usable", e.Message);
    }

    [Fact]
    public void A_disk_below_its_reserve_has_no_room_at_all() =>
        Assert.Contains("needs 1 more bytes, 0 usable", Assert.Throws<DownloadFailedException>(() => new DiskSpace(500, _ => 100).Require("/d", 1)).Message);
}
