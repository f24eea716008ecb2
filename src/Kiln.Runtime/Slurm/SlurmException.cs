namespace Kiln.Runtime.Slurm;

/// <summary>A Slurm command failed, timed out, or is not installed; the message says which and why.</summary>
public sealed class SlurmException(string message) : InvalidOperationException(message);
