using System.Net;
using System.Net.Sockets;
using System.Text;
using Kiln.Server.Gateway;

namespace Kiln.Server.Tests.Gateway;

public class NewReplicaGateTests
{
    private static readonly Uri A = new("http://127.0.0.1:9001/");
    private static readonly Uri B = new("http://127.0.0.1:9002/");

    [Fact]
    public void Replicas_ready_at_the_first_refresh_are_routed_to_at_once_without_opening()
    {
        var opened = new List<Uri>();
        var gate = new NewReplicaGate((uri, _) => { opened.Add(uri); return Task.CompletedTask; }, () => { });
        Assert.True(gate.Routable("r1", A, 8));
        gate.EndRefresh();
        Assert.True(gate.Routable("r1", A, 8));
        Assert.Empty(opened);
    }

    [Fact]
    public void A_new_replica_waits_for_its_connections_then_asks_for_a_refresh()
    {
        var opening = new TaskCompletionSource();
        var calls = new List<(Uri Uri, int Connections)>();
        var refreshes = 0;
        var gate = new NewReplicaGate((uri, n) => { calls.Add((uri, n)); return opening.Task; }, () => refreshes++);
        gate.EndRefresh();

        gate.BeginRefresh();
        Assert.False(gate.Routable("r2", B, 6));
        Assert.True(gate.HoldsBack);
        gate.BeginRefresh();
        Assert.False(gate.Routable("r2", B, 6));
        Assert.Equal([(B, 6)], calls);
        Assert.Equal(0, refreshes);

        opening.SetResult();
        Assert.Equal(1, refreshes);
        Assert.True(gate.HoldsBack);
        gate.BeginRefresh();
        Assert.True(gate.Routable("r2", B, 6));
        Assert.False(gate.HoldsBack);
        Assert.Single(calls);
    }

    [Fact]
    public void A_failed_opening_still_makes_the_replica_routable()
    {
        var refreshes = 0;
        var gate = new NewReplicaGate((_, _) => Task.FromException(new HttpRequestException("refused")), () => refreshes++);
        gate.EndRefresh();
        Assert.True(gate.Routable("r3", A, 8));
        Assert.Equal(1, refreshes);
    }

    [Fact]
    public void A_replica_that_moved_or_was_forgotten_is_new_again()
    {
        var opened = new List<Uri>();
        var gate = new NewReplicaGate((uri, _) => { opened.Add(uri); return Task.CompletedTask; }, () => { });
        Assert.True(gate.Routable("r1", A, 8));
        gate.EndRefresh();
        Assert.True(gate.Routable("r1", B, 8));
        Assert.Equal([B], opened);

        gate.Forget(new HashSet<string>());
        Assert.True(gate.Routable("r1", B, 8));
        Assert.Equal([B, B], opened);

        gate.Forget(new HashSet<string> { "r1" });
        Assert.True(gate.Routable("r1", B, 8));
        Assert.Equal(2, opened.Count);
    }
}

public class ReplicaConnectionOpenerTests
{
    [Fact]
    public async Task Opens_one_pooled_connection_per_request_of_a_batch_and_reuses_them()
    {
        const int batch = 6;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = 0;
        var allAccepted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            var connections = new List<Task>();
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                if (Interlocked.Increment(ref accepted) == batch) allAccepted.TrySetResult();
                connections.Add(AnswerAsync(socket, allAccepted.Task, stop.Token));
            }
            await Task.WhenAll(connections);
        });

        using var client = new ReplicaClient();
        var opener = new ReplicaConnectionOpener(client);
        var baseUri = new Uri($"http://127.0.0.1:{port}/");
        await opener.OpenAsync(baseUri, batch);
        Assert.Equal(batch, Volatile.Read(ref accepted));

        // A burst of the batch's size afterwards finds every connection it needs in the pool.
        await Task.WhenAll(Enumerable.Range(0, batch).Select(_ => client.Http.GetStringAsync(new Uri(baseUri, "v1/models"))));
        Assert.Equal(batch, Volatile.Read(ref accepted));
        stop.Cancel();
        await server;
    }

    // Answers each request on the connection, the first only once the whole batch has connected (or
    // after a while), so that requests sent one after another would not be seen as a batch.
    private static async Task AnswerAsync(Socket socket, Task allAccepted, CancellationToken ct)
    {
        using var _ = socket;
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (read == 0) return;
                seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
                while (seen.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0)
                {
                    seen.Remove(0, end + 4);
                    await Task.WhenAny(allAccepted, Task.Delay(TimeSpan.FromSeconds(1), ct));
                    await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), SocketFlags.None, ct);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
        }
    }
}
