namespace Kiln.Runtime.Slurm;

/// <summary>
/// The job-name prefix of one Kiln installation: <c>kiln-</c> and a random ID kept in its run folder,
/// so that servers sharing that folder (and its replicas) share it, and other installations on the
/// same cluster (another data directory, another user) never touch each other's jobs.
/// </summary>
public static class JobPrefixes
{
    private const string FileName = "installation-id";

    /// <summary>The prefix for <paramref name="runDir"/>, creating its ID on first use.</summary>
    public static string ForRunDir(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path))
        {
            var temp = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, Guid.NewGuid().ToString("N")[..10] + "\n");
            // Two servers starting at once: the first ID written wins, and both read it below.
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException)
            {
                File.Delete(temp);
            }
        }
        var id = File.ReadAllText(path).Trim();
        if (id.Length == 0 || !id.All(char.IsAsciiLetterOrDigit))
        {
            throw new SlurmException($"{path} must hold this installation's ID (letters and digits), not '{id}'");
        }
        return "kiln-" + id;
    }
}
