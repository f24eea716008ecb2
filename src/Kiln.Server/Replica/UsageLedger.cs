using System.Collections.Concurrent;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>
/// The token counts of recent requests, however they ended (finished, cancelled by a disconnect or
/// failed mid-way), under the key the gateway sent in <see cref="KeyHeader"/>. A stream the client
/// abandoned cannot carry its own usage, so the gateway asks here afterwards: every generated token
/// is billed. Entries go when taken, when a whole answer carried the usage itself, or
/// <see cref="Retention"/> after their request started once it has ended.
/// </summary>
internal sealed class UsageLedger
{
    /// <summary>The request header naming a request's entry; requests without it are not kept.</summary>
    public const string KeyHeader = "X-Kiln-Usage-Key";

    /// <summary>How long an entry is kept, from its request's start, once that request has ended.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(2);

    /// <summary>Most entries kept; past it the oldest finished ones go first.</summary>
    public const int Capacity = 16_384;

    private const int MaxKeyLength = 128;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Final counts of a request.</summary>
    public readonly record struct Usage(int PromptTokens, int CompletionTokens);

    // Counting waits for the sequences only when the counts are asked for: tracking stays one insert.
    private sealed record Entry(IReadOnlyList<Generation> Generations, int ChoicesPerPrompt, long TrackedAt)
    {
        public bool Ended => Generations.All(g => g.Finished.IsCompleted);
    }

    /// <summary>Entries kept now.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Keeps the counts of <paramref name="generations"/> (<paramref name="choicesPerPrompt"/> choices
    /// of each prompt, which share their prompt's tokens) under the request's key, if it sent one.
    /// </summary>
    public void Track(HttpContext ctx, IReadOnlyList<Generation> generations, int choicesPerPrompt)
    {
        if (KeyOf(ctx) is not { } key)
        {
            return;
        }
        Evict();
        _entries.TryAdd(key, new Entry(generations, choicesPerPrompt, Environment.TickCount64));
    }

    /// <summary>Drops the request's entry: its answer carried its usage to the gateway.</summary>
    public void Delivered(HttpContext ctx)
    {
        if (KeyOf(ctx) is { } key)
        {
            _entries.TryRemove(key, out _);
        }
    }

    private static string? KeyOf(HttpContext ctx)
    {
        var key = ctx.Request.Headers[KeyHeader].ToString();
        return key.Length is 0 or > MaxKeyLength ? null : key;
    }

    /// <summary>
    /// Takes the counts under <paramref name="key"/>, waiting up to <paramref name="wait"/> for its
    /// request to end; null when the key is unknown or its request is still running.
    /// </summary>
    public async Task<Usage?> TakeAsync(string key, TimeSpan wait, CancellationToken ct)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }
        var finished = Task.WhenAll(entry.Generations.Select(g => g.Finished));
        if (!finished.IsCompleted)
        {
            await Task.WhenAny(finished, Task.Delay(wait, ct));
        }
        if (!finished.IsCompleted)
        {
            return null;
        }
        _entries.TryRemove(key, out _);
        return CountOf(entry);
    }

    private static Usage CountOf(Entry entry)
    {
        var (generations, choicesPerPrompt) = (entry.Generations, entry.ChoicesPerPrompt);
        int prompt = 0, completion = 0;
        for (var i = 0; i < generations.Count; i++)
        {
            completion += generations[i].CompletionTokens;
            if (i % choicesPerPrompt == 0)
            {
                // The choices of one prompt read it together; bill the furthest any of them got.
                var read = 0;
                for (var j = i; j < Math.Min(i + choicesPerPrompt, generations.Count); j++)
                {
                    read = Math.Max(read, generations[j].PromptTokensProcessed);
                }
                prompt += read;
            }
        }
        return new Usage(prompt, completion);
    }

    private void Evict()
    {
        var now = Environment.TickCount64;
        var full = _entries.Count >= Capacity;
        if (!full && (now & 0xFF) != 0)
        {
            return; // sweep now and then, and always when full
        }
        var retention = (long)Retention.TotalMilliseconds;
        foreach (var (key, entry) in _entries)
        {
            // Kept from the request's start: a request still running is never dropped.
            if ((full || now - entry.TrackedAt > retention) && entry.Ended)
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    /// <summary><c>GET /v1/usage/{key}?wait=S</c>: the counts, or 404 while unknown or still running.</summary>
    public async Task HandleAsync(HttpContext ctx)
    {
        var key = ctx.Request.RouteValues["key"] as string ?? "";
        var wait = double.TryParse(ctx.Request.Query["wait"], System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var s) && s is > 0 and <= 30 ? TimeSpan.FromSeconds(s) : TimeSpan.Zero;
        var usage = await TakeAsync(key, wait, ctx.RequestAborted)
            ?? throw new ApiException(404, "No finished request has this usage key.", "invalid_request_error", code: "usage_not_found");
        await ApiResponses.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            ApiResponses.WriteUsage(w, usage.PromptTokens, usage.CompletionTokens);
            w.WriteEndObject();
        });
    }
}
