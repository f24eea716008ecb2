using System.Net;
using System.Net.Sockets;

namespace Kiln.Runtime.Local;

/// <summary>Hands out free loopback ports, never the same one twice in a row of quick starts.</summary>
internal sealed class FreePorts
{
    private readonly Queue<int> _recent = new();
    private readonly Lock _gate = new();

    public int Next()
    {
        lock (_gate)
        {
            for (var attempt = 0; ; attempt++)
            {
                // The kernel picks an unused ephemeral port; the replica binds it moments later.
                using var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                var port = ((IPEndPoint)probe.LocalEndpoint).Port;
                probe.Stop();
                if (!_recent.Contains(port) || attempt > 20)
                {
                    _recent.Enqueue(port);
                    if (_recent.Count > 64)
                    {
                        _recent.Dequeue();
                    }
                    return port;
                }
            }
        }
    }
}
