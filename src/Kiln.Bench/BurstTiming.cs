namespace Kiln.Bench;

/// <summary>
/// One burst of concurrent requests as the client saw it: the aggregate rate and, per request, the
/// time from the burst's start to the first byte of the answer (the first token's event when
/// streamed, the whole answer otherwise). Requests of equal length admitted to one batch together get
/// their first bytes together, so the spread of those times shows whether the burst reached the
/// replica at once or trickled in.
/// </summary>
internal sealed record BurstTiming(double Rate, IReadOnlyList<double> FirstByteMs)
{
    /// <summary>The earliest and the latest first byte, in ms from the burst's start.</summary>
    public (double First, double Last) FirstByteRange => (FirstByteMs.Min(), FirstByteMs.Max());

    /// <summary>Latest first byte less the earliest: how far apart the requests were served.</summary>
    public double FirstByteSpreadMs => FirstByteRange.Last - FirstByteRange.First;
}
