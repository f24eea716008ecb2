namespace Kiln.Core.Billing;

/// <summary>Requests and tokens added up.</summary>
/// <param name="Requests">Requests.</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens.</param>
public readonly record struct UsageTotals(long Requests, long PromptTokens, long CompletionTokens)
{
    /// <summary>Nothing used.</summary>
    public static UsageTotals Zero => default;

    /// <summary>Prompt plus completion tokens.</summary>
    public long TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The totals of one record.</summary>
    public static UsageTotals Of(UsageRecord record) => new(record.Requests, record.PromptTokens, record.CompletionTokens);

    /// <summary>Sums two totals; throws on overflow rather than wrapping.</summary>
    public static UsageTotals operator +(UsageTotals a, UsageTotals b) => new(
        checked(a.Requests + b.Requests),
        checked(a.PromptTokens + b.PromptTokens),
        checked(a.CompletionTokens + b.CompletionTokens));
}
