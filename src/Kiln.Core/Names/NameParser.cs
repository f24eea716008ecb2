using Kiln.Core.Errors;

namespace Kiln.Core.Names;

/// <summary>Splits <c>accounts/&lt;A&gt;/&lt;collection&gt;/&lt;ID&gt;</c> names.</summary>
internal static class NameParser
{
    public static bool TryParse(string? name, string collection, string kind, out string account, out string id, out string? error)
    {
        account = id = "";
        var parts = name?.Split('/') ?? [];
        if (parts.Length != 4 || parts[0] != "accounts" || parts[2] != collection)
        {
            error = $"invalid {kind} name {ResourceNames.Quote(name)}: expected accounts/<ACCOUNT_ID>/{collection}/<{kind.ToUpperInvariant().Replace(' ', '_')}_ID>";
            return false;
        }
        error = ResourceNames.ValidateId(parts[1], "account") ?? ResourceNames.ValidateId(parts[3], kind);
        if (error is not null)
        {
            error = $"invalid {kind} name {ResourceNames.Quote(name)}: {error}";
            return false;
        }
        account = parts[1];
        id = parts[3];
        return true;
    }

    public static void Require(string account, string id, string kind)
    {
        ResourceNames.RequireValidId(account, "account");
        ResourceNames.RequireValidId(id, kind);
    }

    public static KilnError Invalid(string error) => KilnError.InvalidArgument(error);
}
