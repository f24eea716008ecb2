using Kiln.Core.Accounts;
using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string AccountColumns = "id, display_name, tier, spend_limit, create_time, update_time";

    /// <inheritdoc />
    public Task<AccountRecord> CreateAccountAsync(NewAccount account, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        ResourceNames.RequireValidId(account.Id, "account");
        RequireSpendLimit(account.SpendLimit);
        if (AccountExists(db, account.Id))
        {
            throw KilnError.AlreadyExists("account", account.Id);
        }
        db.Execute($"INSERT INTO accounts ({AccountColumns}) VALUES (@id, @name, @tier, @limit, @now, @now)",
            ("id", account.Id), ("name", account.DisplayName ?? account.Id), ("tier", account.Tier.ToWireName()),
            ("limit", Columns.Decimal(account.SpendLimit)), ("now", Columns.Time(now)));
        return LoadAccount(db, account.Id)!;
    });

    /// <inheritdoc />
    public Task<AccountRecord?> GetAccountAsync(string id, CancellationToken ct = default) => Read(ct, db => LoadAccount(db, id));

    /// <inheritdoc />
    public Task<Page<AccountRecord>> ListAccountsAsync(PageRequest page, CancellationToken ct = default) => Read(ct, db =>
        ListPage(db, "accounts", page, AccountColumns, "accounts", "1 = 1", [], "id", MapAccount, a => a.Id));

    /// <inheritdoc />
    public Task<AccountRecord> UpdateAccountAsync(AccountRecord account, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        RequireSpendLimit(account.SpendLimit);
        var changed = db.Execute("UPDATE accounts SET display_name = @name, tier = @tier, spend_limit = @limit, update_time = @now WHERE id = @id",
            ("name", account.DisplayName), ("tier", account.Tier.ToWireName()), ("limit", Columns.Decimal(account.SpendLimit)),
            ("now", Columns.Time(now)), ("id", account.Id));
        return changed == 0 ? throw KilnError.NotFound("account", account.Id) : LoadAccount(db, account.Id)!;
    });

    private static void RequireAccount(SqlSession db, string account)
    {
        if (!AccountExists(db, account))
        {
            throw KilnError.NotFound("account", account);
        }
    }

    private static bool AccountExists(SqlSession db, string id) => db.Scalar("SELECT COUNT(*) FROM accounts WHERE id = @id", ("id", id)) > 0;

    private static void RequireSpendLimit(decimal? limit)
    {
        if (limit < 0)
        {
            throw KilnError.InvalidArgument($"spendLimit must not be negative, got {limit}");
        }
    }

    private static AccountRecord? LoadAccount(SqlSession db, string id) =>
        db.QuerySingle($"SELECT {AccountColumns} FROM accounts WHERE id = @id", MapAccount, ("id", id));

    private static AccountRecord MapAccount(SqlRow r) => new(
        r.GetString(0),
        r.GetString(1),
        Columns.Enum<AccountTier>(r.GetString(2), AccountTiers.TryParse),
        Columns.Decimal(r.GetNullableString(3)),
        Columns.Time(r.GetInt64(4)),
        Columns.Time(r.GetInt64(5)));
}
