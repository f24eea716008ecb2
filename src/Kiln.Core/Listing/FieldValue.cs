using System.Globalization;

namespace Kiln.Core.Listing;

/// <summary>A field's value on one item (or a literal of a filter), typed so comparisons mean something.</summary>
public readonly record struct FieldValue : IComparable<FieldValue>
{
    private FieldValue(ListFieldKind kind, string? text, double number, DateTimeOffset time)
    {
        Kind = kind;
        Text = text;
        Number = number;
        Time = time;
    }

    /// <summary>The value's type.</summary>
    public ListFieldKind Kind { get; }

    /// <summary>String and enum values.</summary>
    public string? Text { get; }

    /// <summary>Number values (and bools as 0 or 1).</summary>
    public double Number { get; }

    /// <summary>Timestamp values.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>A string (or, with <paramref name="kind"/>, an enum) value.</summary>
    public static FieldValue Of(string text, ListFieldKind kind = ListFieldKind.String) => new(kind, text, 0, default);

    /// <summary>A number.</summary>
    public static FieldValue Of(double number) => new(ListFieldKind.Number, null, number, default);

    /// <summary>A bool.</summary>
    public static FieldValue Of(bool value) => new(ListFieldKind.Bool, null, value ? 1 : 0, default);

    /// <summary>A timestamp.</summary>
    public static FieldValue Of(DateTimeOffset time) => new(ListFieldKind.Timestamp, null, 0, time.ToUniversalTime());

    /// <summary>Orders values of one kind (text ordinally); an absent value (null) sorts first.</summary>
    public int CompareTo(FieldValue other) => Kind switch
    {
        ListFieldKind.String or ListFieldKind.Enum => string.CompareOrdinal(Text, other.Text),
        ListFieldKind.Timestamp => Time.CompareTo(other.Time),
        _ => Number.CompareTo(other.Number),
    };

    /// <summary>A form that survives a round trip through <see cref="Parse"/> (for page tokens).</summary>
    public string Encode() => Kind switch
    {
        ListFieldKind.String or ListFieldKind.Enum => $"s{Text}",
        ListFieldKind.Timestamp => $"t{Time.UtcTicks.ToString(CultureInfo.InvariantCulture)}",
        ListFieldKind.Bool => $"b{Number.ToString("R", CultureInfo.InvariantCulture)}",
        _ => $"n{Number.ToString("R", CultureInfo.InvariantCulture)}",
    };

    /// <summary>The value <see cref="Encode"/> wrote, or null when <paramref name="text"/> is not one.</summary>
    public static FieldValue? Parse(string text, ListFieldKind kind)
    {
        if (text.Length == 0)
        {
            return null;
        }
        var body = text[1..];
        return (text[0], kind) switch
        {
            ('s', ListFieldKind.String or ListFieldKind.Enum) => Of(body, kind),
            ('t', ListFieldKind.Timestamp) when long.TryParse(body, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks => Of(new DateTimeOffset(ticks, TimeSpan.Zero)),
            ('b', ListFieldKind.Bool) when double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out var b) => Of(b != 0),
            ('n', ListFieldKind.Number) when double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) => Of(n),
            _ => null,
        };
    }
}
