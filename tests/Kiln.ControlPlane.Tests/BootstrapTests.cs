using System.Net;

namespace Kiln.ControlPlane.Tests;

public class BootstrapTests
{
    [Fact]
    public async Task First_start_prints_the_admin_key_once_and_saves_it_private()
    {
        using var server = await KilnServer.StartAsync();
        var key = server.AdminKey;
        Assert.StartsWith("kiln_", key);
        Assert.Contains(key, server.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.AdminKeyFile));
        Assert.True(File.Exists(Path.Combine(server.DataDir, "kiln.db")));

        using (var api = new Api(server.BaseUri, key))
        {
            var me = await api.GetAsync("/v1/whoami");
            Assert.Equal(HttpStatusCode.OK, me.Status);
            Assert.Equal("default", me.Str("accountId"));
            Assert.True(me.Body.GetProperty("admin").GetBoolean());
        }

        await server.StopAsync();
        await server.RestartAsync();
        Assert.DoesNotContain("kiln_", server.Output);
        Assert.Equal(key, server.AdminKey);
        using var again = new Api(server.BaseUri, key);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/v1/whoami")).Status);
    }

    [Fact]
    public async Task Every_route_needs_a_valid_key()
    {
        using var server = await KilnServer.StartAsync();
        using var none = new HttpClient { BaseAddress = server.BaseUri };
        var anonymous = await none.GetAsync("/v1/accounts/default/deployments");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("UNAUTHENTICATED", await anonymous.Content.ReadAsStringAsync());

        using var wrong = new Api(server.BaseUri, "kiln_" + new string('x', 32));
        var reply = await wrong.GetAsync("/v1/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("UNAUTHENTICATED", reply.Code);
    }
}
