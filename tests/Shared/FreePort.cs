using System.Net;
using System.Net.Sockets;

namespace Kiln.Tests.Shared;

/// <summary>
/// A loopback port that was free a moment ago. Probing then binding can race with another process,
/// so prefer binding port 0 and reading the real port back; this is for listeners that cannot
/// (<c>HttpListener</c>, a server restarted on the port it had).
/// </summary>
public static class FreePort
{
    public static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
