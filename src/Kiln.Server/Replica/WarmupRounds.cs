using System.Diagnostics;
using System.Runtime;

namespace Kiln.Server.Replica;

/// <summary>What <see cref="WarmupRounds"/> did.</summary>
/// <param name="Rounds">Rounds run.</param>
/// <param name="CompiledPerRound">Methods compiled during each round and the pause after it.</param>
/// <param name="MethodsCompiled">Methods compiled in all (by the whole process).</param>
/// <param name="CompileTime">Time the JIT spent compiling them.</param>
/// <param name="Elapsed">How long it took.</param>
/// <param name="Stopped">Why it stopped before the JIT went quiet, or null.</param>
internal sealed record WarmupRoundsResult(int Rounds, IReadOnlyList<long> CompiledPerRound, long MethodsCompiled, TimeSpan CompileTime, TimeSpan Elapsed, string? Stopped);

/// <summary>
/// Runs rounds of requests through per-request code until the JIT has compiled it optimised: the
/// runtime promotes a method after 30 calls, then (dynamic PGO) after 30 more, compiling on one
/// background thread, so such code needs dozens of requests and the compiles queue up behind each
/// other. Rounds go on until one compiles almost nothing, then the queue is let drain, all within a
/// budget.
/// </summary>
internal static class WarmupRounds
{
    private const int MinRounds = 6;
    private const int MaxRounds = 80;
    private const int QuietCompiles = 2;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Runs <paramref name="round"/> (which returns null when every request of it succeeded, else why
    /// one did not) until the JIT goes quiet, a round fails or <paramref name="budget"/> is spent.
    /// </summary>
    public static async Task<WarmupRoundsResult> RunAsync(Func<CancellationToken, Task<string?>> round, TimeSpan budget, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var startCount = JitInfo.GetCompiledMethodCount();
        var startTime = JitInfo.GetCompilationTime();
        var rounds = 0;
        string? stopped = "budget spent before the JIT went quiet";
        var compiled = new List<long>();
        // The budget bounds the whole warm-up, a request that never answers included.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(budget);
        try
        {
            while (rounds < MaxRounds)
            {
                var before = JitInfo.GetCompiledMethodCount();
                var failure = await round(deadline.Token);
                rounds++;
                if (failure is not null)
                {
                    stopped = failure;
                    break;
                }
                await Task.Delay(Pause, deadline.Token);
                compiled.Add(JitInfo.GetCompiledMethodCount() - before);
                if (rounds >= MinRounds && compiled[^1] <= QuietCompiles)
                {
                    stopped = null;
                    break;
                }
            }
            // Promotions queued by the last rounds compile in the background: wait for them too.
            for (var last = -1L; JitInfo.GetCompiledMethodCount() != last;)
            {
                last = JitInfo.GetCompiledMethodCount();
                await Task.Delay(DrainPoll, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The budget ran out.
        }
        return new WarmupRoundsResult(rounds, compiled, JitInfo.GetCompiledMethodCount() - startCount, JitInfo.GetCompilationTime() - startTime, clock.Elapsed, stopped);
    }
}
