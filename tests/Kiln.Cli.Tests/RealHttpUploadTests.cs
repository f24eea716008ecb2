using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Kiln.Cli.Tests;

/// <summary>The upload over a real loopback socket, to see the file go out as a streamed body.</summary>
public class RealHttpUploadTests
{
    [Fact]
    public async Task UploadStreamsOverTheWire()
    {
        var port = FreePort.Next(); // HttpListener cannot bind port 0
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();

        long receivedLength = 0;
        long announcedLength = -1;
        string? receivedSha = null;
        var serving = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                var context = await listener.GetContextAsync();
                var request = context.Request;
                string body;
                if (request.HttpMethod == "PUT")
                {
                    announcedLength = request.ContentLength64;
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[1 << 16];
                    int read;
                    while ((read = await request.InputStream.ReadAsync(buffer)) > 0)
                    {
                        sha.AppendData(buffer, 0, read);
                        receivedLength += read;
                    }
                    receivedSha = Convert.ToHexStringLower(sha.GetHashAndReset());
                    body = Samples.Model(sha256: receivedSha).ToJsonString();
                }
                else
                {
                    body = request.Url!.AbsolutePath == "/v1/whoami"
                        ? """{"account":"accounts/acme","accountId":"acme","apiKeyId":"key1","admin":true}"""
                        : Samples.Model("UPLOADING").ToJsonString();
                }
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });

        var directory = Path.Combine(Path.GetTempPath(), $"kilnctl-wire-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var file = Path.Combine(directory, "model.gguf");
            var bytes = new byte[8_000_000];
            new Random(3).NextBytes(bytes);
            "GGUF"u8.CopyTo(bytes);
            await File.WriteAllBytesAsync(file, bytes);

            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var host = new CliHost
            {
                GetEnvironmentVariable = name => name == "KILN_CONFIG" ? Path.Combine(directory, "config.json") : null,
            };
            var code = await Program.RunAsync(
                ["import", "model", "llama", "--from", file, "--server", $"http://127.0.0.1:{port}", "--api-key", "k"],
                stdout, stderr, host);
            await serving.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.True(code == 0, stderr.ToString());
            Assert.Equal(bytes.Length, announcedLength);
            Assert.Equal(bytes.Length, receivedLength);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), receivedSha);
            Assert.Contains($"SHA-256:        {receivedSha}\n", stdout.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
