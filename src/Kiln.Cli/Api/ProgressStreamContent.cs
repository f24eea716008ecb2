using System.Net;

namespace Kiln.Cli.Api;

/// <summary>A request body streamed from a file in chunks, handing each chunk sent to an observer.</summary>
internal sealed class ProgressStreamContent(Stream source, long length, Action<ReadOnlyMemory<byte>> sent) : HttpContent
{
    private const int ChunkSize = 1 << 20;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkSize];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            sent(buffer.AsMemory(0, read));
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long size)
    {
        size = length;
        return true;
    }
}
