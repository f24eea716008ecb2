namespace Kiln.Engine.Serving;

/// <summary>One alternative at a position, with its id and raw bytes (as llama.cpp's server reports).</summary>
public sealed record TopLogprobEntry(int Id, string Token, float Logprob, byte[] Bytes);

/// <summary>
/// The log-probability of one token of the prompt or output. <see cref="Logprob"/> is null for the
/// first prompt token, which nothing predicts.
/// </summary>
public sealed record LogprobEntry(int Id, string Token, float? Logprob, byte[] Bytes, IReadOnlyList<TopLogprobEntry> Top);
