using Kiln.Core.Deployments;
using Kiln.Server.ControlPlane.Controllers;

namespace Kiln.Server.Tests.ControlPlane;

public class PassContextTests
{
    [Fact]
    public async Task Deployments_planned_at_once_never_claim_the_same_free_slot()
    {
        var pass = new PassContext(_ => 50);
        var granted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, (_, _) =>
        {
            // A plan that starts two replicas of one slot each when both fit, else none.
            var starts = pass.Claim(AcceleratorType.Cpu, free => free >= 2 ? 2 : 0, n => n);
            Interlocked.Add(ref granted, starts);
            return ValueTask.CompletedTask;
        });
        Assert.Equal(50, granted);
        Assert.Equal(0, pass.FreeSlots(AcceleratorType.Cpu));
    }

    [Fact]
    public void A_plan_made_while_another_claim_took_slots_is_made_again_with_what_is_left()
    {
        var pass = new PassContext(_ => 3);
        var seen = new List<int>();
        var starts = pass.Claim(AcceleratorType.Cpu, free =>
        {
            seen.Add(free);
            if (seen.Count == 1)
            {
                // Another deployment claims two slots while this one plans (plans run outside the lock).
                Assert.Equal(2, pass.Claim(AcceleratorType.Cpu, f => Math.Min(f, 2), n => n));
            }
            return Math.Min(free, 2);
        }, n => n);
        Assert.Equal([3, 1], seen);
        Assert.Equal(1, starts);
        Assert.Equal(0, pass.FreeSlots(AcceleratorType.Cpu));
    }

    [Fact]
    public void Each_accelerator_type_has_its_own_free_slots_read_once_per_pass()
    {
        var reads = new List<AcceleratorType>();
        var pass = new PassContext(type =>
        {
            reads.Add(type);
            return type == AcceleratorType.NvidiaH100_80GB ? 4 : 8;
        });
        Assert.Equal(2, pass.Claim(AcceleratorType.NvidiaH100_80GB, free => free >= 2 ? 2 : 0, n => n));
        Assert.Equal(4, pass.Claim(AcceleratorType.Cpu, free => free / 2, n => n));
        Assert.Equal(2, pass.FreeSlots(AcceleratorType.NvidiaH100_80GB));
        Assert.Equal(4, pass.FreeSlots(AcceleratorType.Cpu));
        Assert.Equal(0, pass.Claim(AcceleratorType.NvidiaH100_80GB, free => free >= 4 ? 4 : 0, n => n));
        Assert.Equal([AcceleratorType.NvidiaH100_80GB, AcceleratorType.Cpu], reads);
    }

    [Fact]
    public async Task A_base_model_file_is_resolved_once_per_pass_however_many_deployments_ask()
    {
        var pass = new PassContext(_ => 0);
        var resolutions = 0;
        var gate = new TaskCompletionSource();
        var asks = Enumerable.Range(0, 20).Select(_ => Task.Run(() => pass.OnceAsync("accounts/a/models/m", async () =>
        {
            Interlocked.Increment(ref resolutions);
            await gate.Task;
            return (Path: "/models/m.gguf", Problem: (string?)null);
        }))).ToList();
        var other = await pass.OnceAsync("accounts/a/models/other", () => Task.FromResult((Path: (string?)null, Problem: (string?)"missing")));
        gate.SetResult();
        var results = await Task.WhenAll(asks);
        Assert.Equal(1, resolutions);
        Assert.All(results, r => Assert.Equal("/models/m.gguf", r.Path));
        Assert.Equal("missing", other.Problem);
    }
}
