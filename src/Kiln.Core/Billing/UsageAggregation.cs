namespace Kiln.Core.Billing;

/// <summary>Sums usage records that fall inside a window, grouped by a key.</summary>
public static class UsageAggregation
{
    /// <summary>Totals per deployment of the records in <paramref name="window"/>, ordered by name.</summary>
    public static IReadOnlyDictionary<string, UsageTotals> ByDeployment(IEnumerable<UsageRecord> records, BillingWindow window) =>
        By(records, window, r => r.Deployment);

    /// <summary>Totals per API key of the records in <paramref name="window"/>, ordered by key ID.</summary>
    public static IReadOnlyDictionary<string, UsageTotals> ByApiKey(IEnumerable<UsageRecord> records, BillingWindow window) =>
        By(records, window, r => r.ApiKey);

    /// <summary>Totals per model of the records in <paramref name="window"/>, ordered by name.</summary>
    public static IReadOnlyDictionary<string, UsageTotals> ByModel(IEnumerable<UsageRecord> records, BillingWindow window) =>
        By(records, window, r => r.Model);

    /// <summary>Totals per <paramref name="key"/> of the records in <paramref name="window"/>, ordered by key.</summary>
    public static IReadOnlyDictionary<string, UsageTotals> By(IEnumerable<UsageRecord> records, BillingWindow window, Func<UsageRecord, string> key)
    {
        var totals = new SortedDictionary<string, UsageTotals>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (window.Contains(record.Time))
            {
                var k = key(record);
                totals[k] = totals.GetValueOrDefault(k) + UsageTotals.Of(record);
            }
        }
        return totals;
    }
}
