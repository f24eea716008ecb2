using System.Globalization;
using System.Text.Json;
using Kiln.Core.Errors;

namespace Kiln.Store.Sql;

/// <summary>Conversions between CLR values and their column encodings.</summary>
internal static class Columns
{
    public static long Time(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    public static long? Time(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset? Time(long? ms) => ms is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms.Value);

    /// <summary>The instant truncated to what the store keeps (milliseconds).</summary>
    public static DateTimeOffset Truncate(DateTimeOffset t) => Time(Time(t));

    public static string? Decimal(decimal? d) => d?.ToString(CultureInfo.InvariantCulture);

    public static decimal? Decimal(string? s) => s is null ? null : decimal.Parse(s, NumberStyles.Number, CultureInfo.InvariantCulture);

    public static string Map(IReadOnlyDictionary<string, double> map) =>
        JsonSerializer.Serialize(new SortedDictionary<string, double>(map.ToDictionary(), StringComparer.Ordinal));

    public static IReadOnlyDictionary<string, double> Map(string json) =>
        (JsonSerializer.Deserialize<Dictionary<string, double>>(json) ?? []).AsReadOnly();

    /// <summary>A list of strings as a JSON array; null for an empty one.</summary>
    public static string? List(IReadOnlyList<string> list) => list.Count == 0 ? null : JsonSerializer.Serialize(list);

    public static IReadOnlyList<string> List(string? json) => json is null ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];

    public delegate bool Parser<T>(string? name, out T value);

    /// <summary>Parses a stored wire name; a name this build does not know means the data is damaged.</summary>
    public static T Enum<T>(string name, Parser<T> parse) =>
        parse(name, out var value) ? value : throw new KilnError(StatusCode.DataLoss, $"unknown {typeof(T).Name} \"{name}\" in the database");
}
