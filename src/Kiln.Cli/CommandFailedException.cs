namespace Kiln.Cli;

/// <summary>A command that ran but did not achieve its goal (FAILED deployment, wait timeout); exits with code 1.</summary>
public sealed class CommandFailedException(string message) : Exception(message);
