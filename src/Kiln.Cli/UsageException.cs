namespace Kiln.Cli;

/// <summary>A mistake in how kilnctl was invoked (bad flag value, missing key); exits with code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
