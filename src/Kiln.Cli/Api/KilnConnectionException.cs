namespace Kiln.Cli.Api;

/// <summary>The server could not be reached or answered something that is not the API.</summary>
public sealed class KilnConnectionException(Uri server, string detail, Exception? inner)
    : Exception($"cannot talk to the Kiln server at {server.ToString().TrimEnd('/')}: {detail}", inner);
