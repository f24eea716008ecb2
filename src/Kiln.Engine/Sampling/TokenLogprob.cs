namespace Kiln.Engine.Sampling;

/// <summary>A token and its log-probability under the model's (bias-adjusted) distribution.</summary>
public readonly record struct TokenLogprob(int Token, float Logprob);
