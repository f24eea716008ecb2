namespace Kiln.Cli.Config;

/// <summary>What <c>kilnctl login</c> remembers: the server, the API key and that key's account.</summary>
public sealed record CliConfig(string? Server, string? ApiKey, string? AccountId)
{
    public static readonly CliConfig Empty = new(null, null, null);
}
