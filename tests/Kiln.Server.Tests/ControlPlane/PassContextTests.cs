using Kiln.Server.ControlPlane.Controllers;

namespace Kiln.Server.Tests.ControlPlane;

public class PassContextTests
{
    [Fact]
    public async Task Deployments_planned_at_once_never_claim_the_same_free_slot()
    {
        var pass = new PassContext(freeSlots: 50);
        var granted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, (_, _) =>
        {
            // A plan that starts two replicas of one slot each when both fit, else none.
            var starts = pass.Claim(free => free >= 2 ? 2 : 0, n => n);
            Interlocked.Add(ref granted, starts);
            return ValueTask.CompletedTask;
        });
        Assert.Equal(50, granted);
        Assert.Equal(0, pass.FreeSlots);
    }

    [Fact]
    public async Task A_base_model_file_is_resolved_once_per_pass_however_many_deployments_ask()
    {
        var pass = new PassContext(freeSlots: 0);
        var resolutions = 0;
        var gate = new TaskCompletionSource();
        var asks = Enumerable.Range(0, 20).Select(_ => Task.Run(() => pass.ModelFileAsync("accounts/a/models/m", async () =>
        {
            Interlocked.Increment(ref resolutions);
            await gate.Task;
            return ("/models/m.gguf", (string?)null);
        }))).ToList();
        var other = await pass.ModelFileAsync("accounts/a/models/other", () => Task.FromResult(((string?)null, (string?)"missing")));
        gate.SetResult();
        var results = await Task.WhenAll(asks);
        Assert.Equal(1, resolutions);
        Assert.All(results, r => Assert.Equal("/models/m.gguf", r.Path));
        Assert.Equal("missing", other.Problem);
    }
}
