namespace Kiln.ControlPlane.Tests;

/// <summary><c>KILN_SIMD</c> through the real <c>kiln</c> binary: a bad value is refused like a bad flag.</summary>
public class KernelLevelOverrideTests
{
    private static async Task<(int ExitCode, string Stderr)> RunKilnAsync(string simd, params string[] args)
    {
        var run = await KilnBinary.RunAsync(args, new Dictionary<string, string> { ["KILN_SIMD"] = simd });
        return (run.ExitCode, run.Stderr);
    }

    [SharedFact]
    public async Task A_bad_level_stops_kiln_with_a_message_naming_the_variable_and_a_good_one_runs()
    {
        var model = SharedFiles.Model("stories260K.gguf");
        var bad = await RunKilnAsync("avx1024", "bench", "engine", "--model", model, "-r", "1", "-p", "8", "-n", "8");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("kiln: KILN_SIMD=avx1024 is not a SIMD level; use avx512, avx2 or scalar (or leave it unset for the best this CPU supports)", bad.Stderr.Trim());

        var scalar = await RunKilnAsync("scalar", "bench", "engine", "--model", model, "-r", "1", "-p", "8", "-n", "8");
        Assert.True(scalar.ExitCode == 0, scalar.Stderr);
    }
}
