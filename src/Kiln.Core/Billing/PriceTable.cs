using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Kiln.Core.Deployments;

namespace Kiln.Core.Billing;

/// <summary>
/// What an accelerator costs, in US dollars per accelerator-hour (one accelerator of the type,
/// running one hour). A replica with <c>acceleratorCount</c> 4 costs four times its type's price.
/// </summary>
/// <remarks>
/// Configuration gives a JSON object of wire names to prices, e.g.
/// <c>{ "NVIDIA_A100_80GB": 2.90, "NVIDIA_H100_80GB": 5.80, "CPU": 0.05 }</c>; types it leaves out
/// keep the built-in defaults. Prices are read as <see cref="decimal"/> so that cents stay exact.
/// </remarks>
public sealed class PriceTable
{
    private static readonly Dictionary<AcceleratorType, decimal> Defaults = new()
    {
        [AcceleratorType.NvidiaA100_80GB] = 2.90m,
        [AcceleratorType.NvidiaH100_80GB] = 5.80m,
        [AcceleratorType.NvidiaH200_141GB] = 6.99m,
        [AcceleratorType.NvidiaB200_180GB] = 11.99m,
        [AcceleratorType.AmdMi300X_192GB] = 4.99m,
        [AcceleratorType.NvidiaA10G_24GB] = 1.10m,
        [AcceleratorType.NvidiaL4_24GB] = 0.80m,
        [AcceleratorType.NvidiaA100_40GB] = 2.20m,
        [AcceleratorType.Cpu] = 0.05m,
    };

    private readonly Dictionary<AcceleratorType, decimal> _prices;

    private PriceTable(Dictionary<AcceleratorType, decimal> prices) => _prices = prices;

    /// <summary>The built-in prices.</summary>
    public static PriceTable Default { get; } = new(new(Defaults));

    /// <summary>Every type's price, USD per accelerator-hour.</summary>
    public IReadOnlyDictionary<AcceleratorType, decimal> Prices => _prices;

    /// <summary>USD per accelerator-hour of <paramref name="type"/>.</summary>
    public decimal PerAcceleratorHour(AcceleratorType type) =>
        _prices.TryGetValue(type, out var price) ? price : throw new ArgumentOutOfRangeException(nameof(type), type, "no price for this accelerator type");

    /// <summary>The defaults with some prices replaced; prices must not be negative.</summary>
    public static PriceTable With(IReadOnlyDictionary<AcceleratorType, decimal> overrides)
    {
        var prices = new Dictionary<AcceleratorType, decimal>(Defaults);
        foreach (var (type, price) in overrides)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(price, type.ToWireName());
            prices[type] = price;
        }
        return new(prices);
    }

    /// <summary>Parses the configuration's JSON object; throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static PriceTable Parse(string json) =>
        TryParse(json, out var table, out var error) ? table : throw new FormatException(error);

    /// <summary>Parses the configuration's JSON object; on failure <paramref name="error"/> says which entry is wrong.</summary>
    public static bool TryParse(string? json, [NotNullWhen(true)] out PriceTable? table, [NotNullWhen(false)] out string? error)
    {
        table = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json ?? "");
        }
        catch (JsonException e)
        {
            error = $"price table is not valid JSON: {e.Message}";
            return false;
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                error = "price table must be a JSON object of accelerator types to USD per accelerator-hour";
                return false;
            }
            var overrides = new Dictionary<AcceleratorType, decimal>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (!AcceleratorTypes.TryParse(entry.Name, out var type))
                {
                    error = $"price table: unknown accelerator type \"{entry.Name}\" (expected one of {string.Join(", ", AcceleratorTypes.WireNames)})";
                    return false;
                }
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDecimal(out var price) || price < 0)
                {
                    error = $"price table: {entry.Name} must be a non-negative number of USD per accelerator-hour, got {entry.Value.GetRawText()}";
                    return false;
                }
                if (!overrides.TryAdd(type, price))
                {
                    error = $"price table: {entry.Name} is given twice";
                    return false;
                }
            }
            table = With(overrides);
            error = null;
            return true;
        }
    }
}
