using Kiln.Core.Errors;

namespace Kiln.Server.Auth;

/// <summary>Who is calling: the account and key behind the request's bearer token.</summary>
/// <param name="AccountId">The key's account.</param>
/// <param name="KeyId">The key's ID.</param>
/// <param name="IsAdmin">True for keys of the admin account.</param>
public sealed record Caller(string AccountId, string KeyId, bool IsAdmin)
{
    /// <summary>The account whose keys are admin keys: the one <c>kiln server</c> creates on first start.</summary>
    public const string AdminAccountId = "default";

    private static readonly object ItemKey = new();

    /// <summary>The authenticated caller of this request.</summary>
    public static Caller Of(HttpContext context) =>
        context.Items[ItemKey] as Caller ?? throw KilnError.Unauthenticated("request is not authenticated");

    /// <summary>Attaches the caller to the request.</summary>
    public void AttachTo(HttpContext context) => context.Items[ItemKey] = this;

    /// <summary>
    /// Throws NOT_FOUND for <paramref name="kind"/> <paramref name="name"/> unless the caller owns
    /// <paramref name="account"/>: another account's resources do not exist as far as the caller can tell.
    /// </summary>
    public void RequireAccount(string account, string kind, string name)
    {
        if (account != AccountId)
        {
            throw KilnError.NotFound(kind, name);
        }
    }
}
