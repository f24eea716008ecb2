using System.ComponentModel;
using System.Diagnostics;

namespace Kiln.Runtime.Slurm;

/// <summary>
/// Runs Slurm's client commands (<c>sbatch</c>, <c>squeue</c>, <c>scancel</c>, <c>sinfo</c>) with a
/// timeout, from <paramref name="binDir"/> when given, else found on <c>PATH</c>.
/// </summary>
public sealed class SlurmCommands(TimeSpan timeout, string? binDir = null)
{
    /// <summary>Standard output of <paramref name="program"/>; throws <see cref="SlurmException"/> naming the command when it fails.</summary>
    public Task<string> RunAsync(string program, IReadOnlyList<string> args, CancellationToken ct = default) =>
        RunAsync(program, args, null, ct);

    /// <summary>As above, with <paramref name="environment"/> added to the command's environment.</summary>
    public async Task<string> RunAsync(string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(binDir is null ? program : Path.Combine(binDir, program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new SlurmException($"{program} did not start");
        }
        catch (Win32Exception)
        {
            throw new SlurmException(binDir is null
                ? $"{program} not found: install Slurm's client commands (Debian: slurm-client) and put them on PATH"
                : $"{program} not found in {binDir} (--slurm-bin-dir)");
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new SlurmException($"{program} did not answer within {timeout.TotalSeconds:0.#}s (is slurmctld up?)");
            }
            var output = await stdout;
            var error = (await stderr).Trim();
            if (process.ExitCode != 0)
            {
                throw new SlurmException($"{program} failed (exit code {process.ExitCode}): {(error.Length > 0 ? error : output.Trim())}");
            }
            return output;
        }
    }
}
