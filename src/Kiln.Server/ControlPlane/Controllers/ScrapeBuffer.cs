namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// A scrape worker's reusable body buffer: grows to the largest body it has read, up to
/// <see cref="MaxBody"/> (a replica answering more than that is failing, not busy).
/// </summary>
internal sealed class ScrapeBuffer
{
    /// <summary>The most a <c>/metrics</c> answer may hold.</summary>
    public const int MaxBody = 16 << 20;

    /// <summary>The buffer; its first bytes are the last body read.</summary>
    public byte[] Bytes { get; private set; } = new byte[16 << 10];

    /// <summary>Reads <paramref name="body"/> to its end into <see cref="Bytes"/>; returns its length.</summary>
    /// <exception cref="InvalidDataException">The body is longer than <see cref="MaxBody"/>.</exception>
    public async Task<int> FillAsync(Stream body, CancellationToken ct)
    {
        var length = 0;
        while (true)
        {
            if (length == Bytes.Length)
            {
                if (length >= MaxBody)
                {
                    throw new InvalidDataException($"the answer is longer than {MaxBody} bytes");
                }
                var larger = new byte[Math.Min(Bytes.Length * 2, MaxBody)];
                Bytes.AsSpan(0, length).CopyTo(larger);
                Bytes = larger;
            }
            var read = await body.ReadAsync(Bytes.AsMemory(length), ct);
            if (read == 0)
            {
                return length;
            }
            length += read;
        }
    }
}
