namespace Kiln.Cli.Api;

/// <summary>
/// Resolves a user-given ID, either short ("my-model") or a full resource name
/// ("accounts/acme/models/my-model"), into its account and short ID.
/// </summary>
public readonly record struct ResourceName(string AccountId, string Collection, string Id)
{
    public override string ToString() => $"accounts/{AccountId}/{Collection}/{Id}";

    /// <summary>
    /// Returns null when <paramref name="text"/> is a short ID (the caller supplies the account);
    /// throws <see cref="UsageException"/> for a malformed full name or one of another collection.
    /// </summary>
    public static ResourceName? TryParseFull(string text, string collection, string argumentName)
    {
        if (!text.Contains('/'))
            return null;
        var parts = text.Split('/');
        if (parts.Length != 4 || parts[0] != "accounts" || parts[2] != collection
            || parts[1].Length == 0 || parts[3].Length == 0)
        {
            throw new UsageException(
                $"{argumentName}: \"{text}\" is neither an ID nor a name of the form accounts/<ACCOUNT_ID>/{collection}/<ID>");
        }
        return new ResourceName(parts[1], collection, parts[3]);
    }
}
