using System.Net;
using Kiln.Core.Errors;
using Kiln.Store;
using Kiln.Store.Sqlite;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Two writers of one deployment racing: the API's PATCH (the spec) over HTTP against a writer of
/// the desired replica count on its own connection to the server's store, as the autoscaler writes
/// it (over the version it read, reading again when ABORTED). The running server's reconciler writes
/// the status meanwhile. Neither update may be lost.
/// </summary>
public class ConcurrentWritersTests
{
    private const int Rounds = 60;
    private const string Path = "/v1/accounts/default/deployments/race";

    [Fact]
    public async Task A_patch_and_a_desired_count_write_racing_lose_neither()
    {
        using var server = await KilnServer.StartWithFakeReplicaAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "gone", TestModels.Tiny())).State());
        // No replica process is wanted here: without its file the deployment cannot start any.
        File.Delete(System.IO.Path.Combine(server.DataDir, "models", "default", "gone.gguf"));
        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=race", new
        {
            baseModel = "gone",
            minReplicaCount = 1,
            maxReplicaCount = 100,
            // Long windows: the server's own autoscaler holds the count while the test writes it.
            autoscalingPolicy = new { scaleUpWindow = "1800s", scaleDownWindow = "1800s", scaleToZeroWindow = "1800s" },
        });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());

        using var store = SqliteKilnStore.Open(System.IO.Path.Combine(server.DataDir, "kiln.db"));
        var patches = Task.Run(async () =>
        {
            for (var i = 1; i <= Rounds; i++)
            {
                var patched = await api.PatchAsync(Path, new { displayName = $"v{i}" });
                Assert.True(patched.Status == HttpStatusCode.OK, patched.ToString());
            }
        });
        var autoscaler = Task.Run(async () =>
        {
            for (var i = 1; i <= Rounds; i++)
            {
                var desired = i % 99 + 2;
                while (true)
                {
                    var current = (await store.GetDeploymentAsync("default", "race"))!;
                    try
                    {
                        await store.SetDesiredReplicaCountAsync("default", "race", desired, current.Version);
                        break;
                    }
                    catch (KilnError e) when (e.Code == StatusCode.Aborted)
                    {
                        // Changed since it was read (a PATCH, a status): read it again.
                    }
                }
                // Nobody else writes this field, so what was written must still be there.
                Assert.Equal(desired, (await store.GetDeploymentAsync("default", "race"))!.DesiredReplicaCount);
            }
        });
        await Task.WhenAll(patches, autoscaler);

        var d = await api.GetAsync(Path);
        Assert.Equal(($"v{Rounds}", Rounds % 99 + 2), (d.Str("displayName"), d.Int("desiredReplicaCount")));
        Assert.Equal(1 + Rounds, d.Body.GetProperty("generation").GetInt64());
        var stored = (await store.GetDeploymentAsync("default", "race"))!;
        Assert.Equal(($"v{Rounds}", Rounds % 99 + 2), (stored.Spec.DisplayName, stored.DesiredReplicaCount));
    }
}
