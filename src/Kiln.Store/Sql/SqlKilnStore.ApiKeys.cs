using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string ApiKeyColumns = "account, id, key_hash, display_name, create_time, last_used_time";

    /// <inheritdoc />
    public Task<ApiKeyRecord> CreateApiKeyAsync(NewApiKey key, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        ResourceNames.RequireValidId(key.Id, "API key");
        if (key.KeyHash.Length != 64 || !key.KeyHash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw KilnError.InvalidArgument("keyHash must be 64 lowercase hex characters (a SHA-256)");
        }
        RequireAccount(db, key.Account);
        if (db.Scalar("SELECT COUNT(*) FROM api_keys WHERE account = @account AND id = @id", ("account", key.Account), ("id", key.Id)) > 0)
        {
            throw KilnError.AlreadyExists("API key", $"accounts/{key.Account}/apiKeys/{key.Id}");
        }
        if (db.Scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = @hash", ("hash", key.KeyHash)) > 0)
        {
            // Deliberately not saying which account holds it.
            throw new KilnError(StatusCode.AlreadyExists, "an API key with this hash already exists");
        }
        db.Execute($"INSERT INTO api_keys ({ApiKeyColumns}) VALUES (@account, @id, @hash, @name, @now, NULL)",
            ("account", key.Account), ("id", key.Id), ("hash", key.KeyHash), ("name", key.DisplayName ?? key.Id), ("now", Columns.Time(now)));
        return db.QuerySingle($"SELECT {ApiKeyColumns} FROM api_keys WHERE account = @account AND id = @id", MapApiKey,
            ("account", key.Account), ("id", key.Id))!;
    });

    /// <inheritdoc />
    public Task<ApiKeyRecord?> FindApiKeyByHashAsync(string keyHash, CancellationToken ct = default) => Read(ct, db =>
        db.QuerySingle($"SELECT {ApiKeyColumns} FROM api_keys WHERE key_hash = @hash", MapApiKey, ("hash", keyHash)));

    /// <inheritdoc />
    public Task<Page<ApiKeyRecord>> ListApiKeysAsync(string account, PageRequest page, CancellationToken ct = default) => Read(ct, db =>
        ListPage(db, $"apiKeys/{account}", page, ApiKeyColumns, "api_keys", "account = @account", [("account", account)], "id", MapApiKey, k => k.Id));

    /// <inheritdoc />
    public Task TouchApiKeyAsync(string account, string id, DateTimeOffset usedAt, CancellationToken ct = default) => Write(ct, (db, _) =>
    {
        var changed = db.Execute(
            $"UPDATE api_keys SET last_used_time = {Dialect.Greatest}(COALESCE(last_used_time, 0), @time) WHERE account = @account AND id = @id",
            ("time", Columns.Time(usedAt)), ("account", account), ("id", id));
        return changed == 0 ? throw KilnError.NotFound("API key", $"accounts/{account}/apiKeys/{id}") : true;
    });

    /// <inheritdoc />
    public Task<bool> DeleteApiKeyAsync(string account, string id, CancellationToken ct = default) => Write(ct, (db, _) =>
        db.Execute("DELETE FROM api_keys WHERE account = @account AND id = @id", ("account", account), ("id", id)) > 0);

    private static ApiKeyRecord MapApiKey(SqlRow r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Columns.Time(r.GetInt64(4)), Columns.Time(r.GetNullableInt64(5)));
}
