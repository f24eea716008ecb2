namespace Kiln.Core.Billing;

/// <summary>Usage the gateway recorded for one request (or a batch of requests it counted together).</summary>
/// <param name="Time">When the request arrived.</param>
/// <param name="Account">The calling account's ID.</param>
/// <param name="ApiKey">The API key's ID (never the secret).</param>
/// <param name="Deployment">The deployment that served it, <c>accounts/A/deployments/D</c>.</param>
/// <param name="Model">The model asked for, <c>accounts/A/models/M</c>.</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens.</param>
/// <param name="Requests">Requests this record stands for.</param>
public sealed record UsageRecord(
    DateTimeOffset Time,
    string Account,
    string ApiKey,
    string Deployment,
    string Model,
    long PromptTokens,
    long CompletionTokens,
    long Requests = 1);
