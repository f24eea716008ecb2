using System.Text;
using System.Text.Json;
using Kiln.Server.Logging;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Tests.Logging;

public partial class JsonLineLoggerTests
{
    [LoggerMessage(Level = LogLevel.Information, Message = "inference {RequestId} {Status} {DurationMs}ms")]
    private static partial void Served(ILogger log, string requestId, int status, double durationMs);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static List<JsonElement> Lines(MemoryStream output)
    {
        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.EndsWith("\n", text);
        return [.. text.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    [Fact]
    public void A_line_carries_the_json_console_fields()
    {
        var output = new MemoryStream();
        var time = new FixedTime(new DateTimeOffset(2025, 3, 4, 5, 6, 7, 89, TimeSpan.FromHours(2)));
        using (var provider = new JsonLineLoggerProvider(new LogLineSink(output), time))
        {
            var log = provider.CreateLogger("Kiln.Server.Gateway.InferenceProxy");
            Served(log, "req_\"1\"", 200, 0.4);
            log.LogWarning(new EventId(7), new InvalidOperationException("boom"), "replica {Replica} failed", "r-1");
        }
        var lines = Lines(output);
        Assert.Equal(2, lines.Count);

        var served = lines[0];
        Assert.Equal("2025-03-04T03:06:07.089Z", served.GetProperty("Timestamp").GetString());
        Assert.Equal(JsonValueKind.Number, served.GetProperty("EventId").ValueKind);
        Assert.Equal("Information", served.GetProperty("LogLevel").GetString());
        Assert.Equal("Kiln.Server.Gateway.InferenceProxy", served.GetProperty("Category").GetString());
        Assert.Equal("inference req_\"1\" 200 0.4ms", served.GetProperty("Message").GetString());
        Assert.False(served.TryGetProperty("Exception", out _));
        var state = served.GetProperty("State");
        Assert.Equal("inference req_\"1\" 200 0.4ms", state.GetProperty("Message").GetString());
        Assert.Equal("req_\"1\"", state.GetProperty("RequestId").GetString());
        Assert.Equal(JsonValueKind.Number, state.GetProperty("Status").ValueKind);
        Assert.Equal(200, state.GetProperty("Status").GetInt32());
        Assert.Equal(0.4, state.GetProperty("DurationMs").GetDouble());
        Assert.Equal("inference {RequestId} {Status} {DurationMs}ms", state.GetProperty("{OriginalFormat}").GetString());

        var failed = lines[1];
        Assert.Equal(7, failed.GetProperty("EventId").GetInt32());
        Assert.Equal("Warning", failed.GetProperty("LogLevel").GetString());
        Assert.Equal("replica r-1 failed", failed.GetProperty("Message").GetString());
        Assert.Contains("System.InvalidOperationException: boom", failed.GetProperty("Exception").GetString());
        Assert.Equal("r-1", failed.GetProperty("State").GetProperty("Replica").GetString());
    }

    [Fact]
    public void Lines_from_many_threads_arrive_whole_and_all_of_them_by_dispose()
    {
        var output = new MemoryStream();
        using (var provider = new JsonLineLoggerProvider(new LogLineSink(output), TimeProvider.System))
        {
            var log = provider.CreateLogger("Kiln.Test");
            Parallel.For(0, 4, t =>
            {
                for (var i = 0; i < 2000; i++)
                {
                    // Some lines long enough to need several of a batch's buffers.
                    log.LogInformation("thread {Thread} line {Line} {Padding}", t, i, new string('x', i % 7 == 0 ? 5000 : 10));
                }
            });
        }
        var lines = Lines(output);
        Assert.Equal(8000, lines.Count);
        foreach (var byThread in lines.GroupBy(l => l.GetProperty("State").GetProperty("Thread").GetInt32()))
        {
            // One thread's lines keep their order.
            Assert.Equal(Enumerable.Range(0, 2000), byThread.Select(l => l.GetProperty("State").GetProperty("Line").GetInt32()));
        }
    }

    [Fact]
    public async Task A_broken_output_loses_lines_but_never_stalls_the_loggers()
    {
        using var provider = new JsonLineLoggerProvider(new LogLineSink(new ThrowingStream()), TimeProvider.System);
        var log = provider.CreateLogger("Kiln.Test");
        // Several times the sink's bound: loggers would wait for room forever if its writer had died.
        var logging = Task.Run(() =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                log.LogInformation("line {Line} {Padding}", i, new string('x', 100));
            }
        });
        await logging.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_line_after_a_quiet_spell_wakes_the_sleeping_writer()
    {
        var output = new SignallingStream();
        using var provider = new JsonLineLoggerProvider(new LogLineSink(output), TimeProvider.System);
        var log = provider.CreateLogger("Kiln.Test");
        log.LogInformation("first");
        Assert.True(await output.Written.WaitAsync(TimeSpan.FromSeconds(10)), "the first line was not written");
        // Long enough for the writer to stop looking by itself: only the next line can wake it now.
        await Task.Delay(LogLineSink.IdleAfter * 3);
        log.LogInformation("second");
        Assert.True(await output.Written.WaitAsync(TimeSpan.FromSeconds(10)), "a line after a quiet spell was not written until dispose");
        Assert.Contains("second", output.Text());
    }

    private sealed class SignallingStream : Stream
    {
        private readonly MemoryStream _bytes = new();

        public SemaphoreSlim Written { get; } = new(0);

        public string Text()
        {
            lock (_bytes)
            {
                return Encoding.UTF8.GetString(_bytes.ToArray());
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_bytes)
            {
                _bytes.Write(buffer, offset, count);
            }
            Written.Release();
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("broken pipe");
    }
}
