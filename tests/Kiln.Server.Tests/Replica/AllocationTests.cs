using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Kiln.Server.Tests.Replica;

/// <summary>Alone, because the allocation count is the whole process's.</summary>
[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationTestsCollection;

/// <summary>
/// What the replica (HTTP handling, scheduler and text pipeline, with the fake model) allocates per
/// generated token: the difference between a long and a short answer, so per-request costs cancel
/// out. The client is a raw socket reading into one buffer, so it adds nothing per token.
/// </summary>
[Collection(nameof(AllocationTests))]
public class AllocationTests(ITestOutputHelper output)
{
    private const int Short = 128, Long = 1024;

    [Theory]
    [InlineData(false, 48)]
    [InlineData(true, 192)]
    public async Task Bytes_allocated_per_generated_token_stay_small(bool stream, int boundPerToken)
    {
        await using var r = await TestReplica.StartAsync(contextLength: 2048);
        var buffer = new byte[64 << 10];
        await AllocatedAsync(r, Request(Short, stream), buffer); // warms up the JIT and the pools

        var perToken = (double)(await AllocatedAsync(r, Request(Long, stream), buffer) - await AllocatedAsync(r, Request(Short, stream), buffer)) / (Long - Short);
        output.WriteLine($"stream={stream}: {perToken:F1} bytes per generated token");
        Assert.True(perToken < boundPerToken, $"{perToken:F1} bytes allocated per generated token (bound {boundPerToken})");
    }

    private static byte[] Request(int tokens, bool stream)
    {
        // 'a' counts up through the bytes and, with ignore_eos, through the end token: every answer runs to max_tokens.
        var body = $$"""{"prompt":"a","max_tokens":{{tokens}},"temperature":0,"ignore_eos":true,"stream":{{(stream ? "true" : "false")}}}""";
        return Encoding.ASCII.GetBytes(
            $"POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
    }

    /// <summary>The fewest bytes the process allocated over three runs of the request (other work only adds).</summary>
    private static async Task<long> AllocatedAsync(TestReplica r, byte[] request, byte[] buffer)
    {
        var best = long.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, r.BaseAddress.Port));
                await socket.SendAsync(request);
                var first = await socket.ReceiveAsync(buffer, SocketFlags.None);
                Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, Math.Min(first, 12)));
                while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0)
                {
                }
            }
            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        return best;
    }
}
