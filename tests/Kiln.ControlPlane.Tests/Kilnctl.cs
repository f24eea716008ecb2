using System.Diagnostics;

namespace Kiln.ControlPlane.Tests;

/// <summary>Runs the real <c>kilnctl</c> executable against a server, with its own config file.</summary>
public sealed class Kilnctl(Uri server, string apiKey, string configDir)
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public string ApiKey { get; } = apiKey;

    private static readonly Lazy<string> ConfigRoot = new(() =>
    {
        var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "kiln-cp-tests", $"kilnctl-{Environment.ProcessId}")).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    /// <summary>A fresh folder for one kilnctl's config, inside a folder of this test process's that is removed when it exits.</summary>
    public static string NewConfigDir() => Directory.CreateDirectory(Path.Combine(ConfigRoot.Value, Guid.NewGuid().ToString("N")[..12])).FullName;

    public Kilnctl WithKey(string key) => new(server, key, configDir);

    public async Task<Result> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "kilnctl"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["KILN_SERVER"] = server.ToString().TrimEnd('/');
        psi.Environment["KILN_API_KEY"] = ApiKey;
        psi.Environment["KILN_CONFIG"] = Path.Combine(configDir, "kilnctl.json");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a command that must succeed and returns its standard output.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var r = await RunAsync(args);
        Assert.True(r.ExitCode == 0, $"kilnctl {string.Join(' ', args)} failed: {r}");
        return r.Stdout;
    }
}
