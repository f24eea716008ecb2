using System.Net.Sockets;
using System.Text;

namespace Kiln.Server.Replica;

/// <summary>What an <see cref="HttpWarmup"/> did.</summary>
internal sealed record HttpWarmupReport(int Rounds, int Requests, long MethodsCompiled, TimeSpan Elapsed, string? Stopped)
{
    /// <summary>Methods compiled during each round and the pause after it.</summary>
    public IReadOnlyList<long> CompiledPerRound { get; init; } = [];

    public override string ToString() =>
        $"{Rounds} rounds, {Requests} requests, {MethodsCompiled} methods compiled ({string.Join(", ", CompiledPerRound)} per round), {Elapsed.TotalMilliseconds:F0} ms" +
        (Stopped is null ? "" : $" ({Stopped})");
}

/// <summary>
/// Sends the replica's own OpenAI endpoints rounds of a full batch of requests (completions and chat,
/// plain and streamed, greedy and sampled) before it reports ready. The engine warm-up compiles the
/// per-step code; the per-request code (Kestrel, JSON parsing and writing, tokenizing, the SSE writer,
/// the thread pool's injection of threads) runs a few times per request and would otherwise be
/// promoted by the tiered JIT during the first bursts, its compiles taking a core from decoding.
/// Rounds go on until one compiles almost nothing (<see cref="WarmupRounds"/>).
/// </summary>
internal static class HttpWarmup
{
    /// <summary>Header carrying the replica's warm-up key: only requests with it are served before ready.</summary>
    public const string KeyHeader = "X-Kiln-Warmup";

    public static async Task<HttpWarmupReport> RunAsync(Uri address, string key, int clients, TimeSpan budget, CancellationToken ct)
    {
        var requests = Enumerable.Range(0, clients).Select(i => Request(address, key, i)).ToArray();
        var result = await WarmupRounds.RunAsync(
            async deadline => (await Task.WhenAll(requests.Select(r => SendAsync(address, r, deadline)))).FirstOrDefault(f => f is not null),
            budget, ct);
        return new HttpWarmupReport(result.Rounds, result.Rounds * clients, result.MethodsCompiled, result.Elapsed, result.Stopped) { CompiledPerRound = result.CompiledPerRound };
    }

    /// <summary>
    /// One request of the mix, as bytes: sent over a bare socket rather than an HttpClient, whose own
    /// code would otherwise be compiled and promoted on the same background thread as the server's.
    /// </summary>
    private static (string Path, byte[] Bytes) Request(Uri address, string key, int i)
    {
        var chat = i % 4 >= 2;
        var stream = i % 2 == 1;
        // Staggered lengths decode at every batch height; end of sequence is ignored so each runs its length.
        var sampling = i % 3 == 0 ? "\"temperature\":0" : "\"temperature\":0.8,\"top_p\":0.95";
        var common = $"\"max_tokens\":{2 + i % 4},\"ignore_eos\":true,\"stream\":{(stream ? "true" : "false")},{sampling}";
        var body = Encoding.UTF8.GetBytes(chat
            ? $$"""{"messages":[{"role":"user","content":"Tell me a story."}],{{common}}}"""
            : $$"""{"prompt":"Once upon a time",{{common}}}""");
        var path = chat ? "/v1/chat/completions" : "/v1/completions";
        var head = Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\n" +
            $"Content-Length: {body.Length}\r\n{KeyHeader}: {key}\r\nConnection: close\r\n\r\n");
        return (path, [.. head, .. body]);
    }

    /// <summary>Sends one request and reads its answer to the end; null when it succeeded, else why it did not.</summary>
    private static async Task<string?> SendAsync(Uri address, (string Path, byte[] Bytes) request, CancellationToken ct)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.DnsSafeHost, address.Port, ct);
        await socket.SendAsync(request.Bytes, SocketFlags.None, ct);
        var buffer = new byte[16 * 1024];
        var head = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory(Math.Min(head, buffer.Length - 1)), SocketFlags.None, ct)) > 0)
        {
            head = Math.Min(head + read, buffer.Length);
        }
        var text = Encoding.UTF8.GetString(buffer, 0, head);
        return text.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal) ? null : $"{request.Path}: {(text.Length == 0 ? "no answer" : text[..Math.Min(text.Length, 400)])}";
    }
}
