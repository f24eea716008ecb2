using Kiln.Core.Errors;
using Npgsql;

namespace Kiln.Store.Postgres;

/// <summary>
/// Reads the PostgreSQL database a store should use: an Npgsql connection string
/// (<c>Host=db;Port=5432;Username=kiln;Database=kiln</c>) or a URL
/// (<c>postgres://user[:password]@host[:port]/database[?key=value&amp;...]</c>, query keys being
/// connection-string keys). A malformed value is an INVALID_ARGUMENT naming what is wrong.
/// </summary>
public static class PostgresConnectionString
{
    /// <summary>Whether <paramref name="value"/> names a PostgreSQL database rather than anything else.</summary>
    public static bool IsUrl(string value) =>
        value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <paramref name="value"/> into Npgsql's settings.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw KilnError.InvalidArgument("the PostgreSQL connection string is empty");
        }
        var builder = IsUrl(value) ? FromUrl(value) : FromKeywords(value);
        if (string.IsNullOrEmpty(builder.Host))
        {
            throw KilnError.InvalidArgument("the PostgreSQL connection string names no Host");
        }
        return builder;
    }

    /// <summary>Host, port and database, for messages (never the password).</summary>
    public static string Describe(NpgsqlConnectionStringBuilder b) => $"{b.Host}:{b.Port}/{b.Database ?? b.Username ?? "(default)"}";

    private static NpgsqlConnectionStringBuilder FromKeywords(string value)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(value);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            throw KilnError.InvalidArgument($"not a valid PostgreSQL connection string: {e.Message}");
        }
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw KilnError.InvalidArgument($"not a valid PostgreSQL URL (expected postgres://user[:password]@host[:port]/database): {value}");
        }
        var builder = FromKeywords(string.Join(';', uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString)));
        builder.Host = uri.Host.Trim('[', ']');
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }
        return builder;
    }
}
