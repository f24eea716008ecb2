namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Flags of the real <c>kiln</c> binary whose value is out of range or does not parse as their type: refused
/// with exit code 2 and a message naming the flag, never a stack trace, and nothing written.
/// </summary>
public class KilnFlagTests
{
    private static async Task<(int ExitCode, string Stderr)> RunKilnAsync(params string[] args)
    {
        var run = await KilnBinary.RunAsync(args);
        return (run.ExitCode, run.Stderr);
    }

    private static void AssertRefused((int ExitCode, string Stderr) run, string flag)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.StartsWith("kiln: ", run.Stderr);
        Assert.Contains(flag, run.Stderr.Split('\n')[0]);
        Assert.DoesNotContain("Unhandled exception", run.Stderr);
    }

    [SharedTheory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("wide")]
    public async Task A_bad_output_norm_is_refused_by_name_and_writes_no_file(string value)
    {
        var output = Path.Combine(Path.GetTempPath(), $"kiln-generate-{Guid.NewGuid():N}.gguf");
        AssertRefused(await RunKilnAsync("generate-model", "--preset", "stories15m", "--vocab", SharedFiles.Model("synth-15m-q4_0.gguf"), "--output-norm", value, "-o", output), "--output-norm");
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("--port", "abc")]
    [InlineData("--port", "0")]
    [InlineData("--cpu-slots", "many")]
    [InlineData("--max-held-requests", "1.5")]
    [InlineData("--max-body-bytes", "-3")]
    public async Task A_server_flag_that_does_not_parse_or_is_out_of_range_is_refused_by_name(string flag, string value)
    {
        var dataDir = Directory.CreateTempSubdirectory("kiln-flags-").FullName;
        AssertRefused(await RunKilnAsync("server", "--data-dir", dataDir, flag, value), flag);
        // Refused before anything started: no store was created.
        Assert.Empty(Directory.EnumerateFileSystemEntries(dataDir));
    }

    [Theory]
    [InlineData("engine", "--repetitions", "abc")]
    [InlineData("engine", "--threads", "0")]
    [InlineData("sampling", "--streams", "eight")]
    public async Task A_bench_flag_that_does_not_parse_or_is_out_of_range_is_refused_by_name(string bench, string flag, string value) =>
        AssertRefused(await RunKilnAsync("bench", bench, "--model", "missing.gguf", flag, value), flag);
}
