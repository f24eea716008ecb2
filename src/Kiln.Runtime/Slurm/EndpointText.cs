using System.Globalization;

namespace Kiln.Runtime.Slurm;

/// <summary>The <c>host:port</c> a replica writes into its endpoint file (see <c>kiln replica --endpoint-file</c>).</summary>
public static class EndpointText
{
    /// <summary>Parses <c>host:port</c> (also <c>[v6]:port</c>); null when malformed.</summary>
    public static (string Host, int Port)? Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return null;
        }
        var host = text[..colon].Trim('[', ']');
        return host.Length == 0 ? null : (host, port);
    }

    /// <summary>True for an address that means "every interface": the node's own address is what others dial.</summary>
    public static bool IsWildcard(string host) => host is "0.0.0.0" or "::" or "*" or "+";
}
