using System.ComponentModel;
using System.Diagnostics;

namespace Kiln.Runtime.Accelerators;

/// <summary>
/// Finds this machine's accelerators at start: NVIDIA GPUs from <c>nvidia-smi</c> and AMD GPUs
/// from <c>rocm-smi</c>, each optional. A tool that is missing is silence; one that fails, hangs
/// or prints what Kiln cannot read is a warning, never a failed start. Without GPUs the machine
/// offers one CPU slot per core; with GPUs, CPU slots only when asked for.
/// </summary>
public static class AcceleratorDiscovery
{
    /// <summary>Runs a tool: its standard output, or null when it is not installed; throws <see cref="ToolFailedException"/> when it fails.</summary>
    public delegate string? ToolRunner(string program, IReadOnlyList<string> arguments);

    /// <summary>What the tools find; <paramref name="cpuSlots"/> sets the CPU slots (else one per core on a machine without GPUs, none beside GPUs).</summary>
    public static LocalInventory Discover(int? cpuSlots = null, ToolRunner? run = null)
    {
        run ??= RunTool;
        var devices = new List<Kiln.Core.Accelerators.AcceleratorDevice>();
        var warnings = new List<string>();
        var sources = new List<string>();
        foreach (var (program, args, parse) in new (string, IReadOnlyList<string>, Func<string, DiscoveredDevices>)[]
        {
            (NvidiaSmi.Program, NvidiaSmi.Arguments, NvidiaSmi.Parse),
            (RocmSmi.Program, RocmSmi.Arguments, RocmSmi.Parse),
        })
        {
            string? output;
            try
            {
                output = run(program, args);
            }
            catch (ToolFailedException e)
            {
                warnings.Add($"{program}: {e.Message}; its GPUs are not offered");
                continue;
            }
            if (output is null)
            {
                continue;
            }
            var found = parse(output);
            warnings.AddRange(found.Warnings);
            if (found.Devices.Count > 0)
            {
                devices.AddRange(found.Devices);
                sources.Add(program);
            }
        }
        var slots = cpuSlots ?? (devices.Count > 0 ? 0 : Environment.ProcessorCount);
        if (sources.Count == 0 || cpuSlots is not null)
        {
            sources.Add(cpuSlots is null ? "cores" : "--cpu-slots");
        }
        return new LocalInventory(devices, slots, string.Join(", ", sources), warnings);
    }

    /// <summary>Runs <paramref name="program"/> for at most 10 seconds.</summary>
    public static string? RunTool(string program, IReadOnlyList<string> arguments)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        Process? p;
        try
        {
            p = Process.Start(psi);
        }
        catch (Win32Exception)
        {
            return null; // not installed: no GPUs of that vendor
        }
        if (p is null)
        {
            return null;
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(10_000))
            {
                try
                {
                    p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                throw new ToolFailedException("did not answer within 10 s");
            }
            if (p.ExitCode != 0)
            {
                var why = stderr.Result.Trim().Split('\n')[0];
                throw new ToolFailedException($"exited with code {p.ExitCode}{(why.Length > 0 ? ": " + NvidiaSmi.Shorten(why) : "")}");
            }
            return stdout.Result;
        }
    }
}

/// <summary>A discovery tool ran but failed.</summary>
public sealed class ToolFailedException(string message) : Exception(message);
