using System.Buffers;
using System.Text;
using Kiln.Server.Gateway;

namespace Kiln.Server.Tests.Gateway;

public class PrometheusTextTests
{
    [Fact]
    public void Parses_samples_labels_types_and_special_values()
    {
        var scrape = PrometheusText.Parse("""
            # HELP kiln_batch_occupancy Active sequences divided by the maximum batch size.
            # TYPE kiln_batch_occupancy gauge
            kiln_batch_occupancy 0.375
            # TYPE kiln_requests_total counter
            kiln_requests_total{finish_reason="stop"} 3
            kiln_requests_total{finish_reason="length",note="a \"quoted\", odd\\one"} 4 1700000000
            kiln_ttft_bucket{le="+Inf"} 7
            weird{unterminated="x 1
            nan_metric NaN

            """);
        Assert.Equal(0.375, scrape.Value("kiln_batch_occupancy"));
        Assert.Equal(7, scrape.Sum("kiln_requests_total"));
        Assert.Null(scrape.Sum("absent"));
        Assert.Equal("a \"quoted\", odd\\one", scrape.Samples[2].Label("note"));
        Assert.Equal("+Inf", scrape.Samples[3].Label("le"));
        Assert.True(double.IsNaN(scrape.Value("nan_metric")!.Value));
        Assert.DoesNotContain(scrape.Samples, s => s.Name == "weird");
        Assert.Equal("counter", scrape.Types["kiln_requests_total"]);
        Assert.Null(scrape.Value("absent"));
    }

    [Fact]
    public void Parsing_only_some_names_keeps_exactly_what_a_full_parse_finds_of_them()
    {
        var odd = "\uFEFF" + """
            # HELP kiln_queue_depth mentions kiln_active_sequences 9
              kiln_queue_depth 3
            kiln_queue_depth_total 100
            kiln_requests_total{finish_reason="stop",note="kiln_queue_depth 5"} 2
            other{note="kiln_queue_depth"} 7
            kiln_queue_depth{replica="a } b"} 4 1700000000
            kiln_queue_depth{unterminated="x 1
            kiln_queue_depth
            kiln_queue_depth NaN
            <TAB>kiln_active_sequences<TAB>6

            """.Replace("<TAB>", "\t", StringComparison.Ordinal);
        foreach (var text in new[] { odd, odd.Replace("\n", "\r\n", StringComparison.Ordinal), Encoding.UTF8.GetString(Kiln.Server.Benchmarks.SimulatedReplicas.MetricsBody()) })
        {
            var full = PrometheusText.Parse(text.TrimStart('\uFEFF'));
            foreach (var names in new[] { ["kiln_queue_depth"], ["kiln_active_sequences", "kiln_requests_total", "kiln_generated_tokens_total"], ["absent"], Array.Empty<string>() })
            {
                var only = PrometheusText.ParseOnly(Encoding.UTF8.GetBytes(text), new PrometheusFilter(names));
                Assert.Equal(
                    full.Samples.Where(x => names.Contains(x.Name)).Select(Flat),
                    only.Samples.Select(Flat));
            }
        }
        var kept = PrometheusText.ParseOnly(Encoding.UTF8.GetBytes(odd), new PrometheusFilter(["kiln_queue_depth", "kiln_active_sequences"]));
        Assert.Equal(["kiln_queue_depth 3", "kiln_queue_depth 4", "kiln_queue_depth NaN", "kiln_active_sequences 6"], kept.Samples.Select(x => $"{x.Name} {x.Value}"));
        Assert.Equal("a } b", kept.Samples[1].Label("replica"));
        // What the autoscaler reads of a real replica's scrape: every signal the Kiln engine reports.
        var replica = PrometheusText.ParseOnly(Kiln.Server.Benchmarks.SimulatedReplicas.MetricsBody(), new PrometheusFilter(Kiln.Core.Engines.EngineProfiles.Kiln.Metrics.All));
        Assert.Equal(5, replica.Samples.Count);
    }

    private static string Flat(PrometheusSample s) => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}";

    [Fact]
    public void Written_samples_parse_back()
    {
        var sb = new StringBuilder();
        PrometheusText.AppendHeader(sb, "m", "gauge", "help");
        PrometheusText.AppendSample(sb, "m", [new("deployment", "accounts/a/deployments/d"), new("q", "x\"y\n")], 1.5);
        PrometheusText.AppendSample(sb, "m", [], double.PositiveInfinity);
        var back = PrometheusText.Parse(sb.ToString());
        Assert.Equal("x\"y\n", back.Samples[0].Label("q"));
        Assert.Equal(1.5, back.Samples[0].Value);
        Assert.Equal(double.PositiveInfinity, back.Samples[1].Value);
    }
}

public class BalancerAndHoldTests
{
    private static ReplicaEndpoint E(string id, int load)
    {
        var e = new ReplicaEndpoint(id, new Uri($"http://127.0.0.1:1/{id}/"));
        for (var i = 0; i < load; i++) e.Begin();
        return e;
    }

    [Fact]
    public void An_endpoint_resolves_paths_against_its_base_once()
    {
        var e = new ReplicaEndpoint("r", new Uri("http://127.0.0.1:5000/"));
        var completions = e.For("v1/completions");
        Assert.Equal("http://127.0.0.1:5000/v1/completions", completions.ToString());
        Assert.Same(completions, e.For("v1/completions"));
        Assert.Equal("http://127.0.0.1:5000/v1/chat/completions", e.For("v1/chat/completions").ToString());
    }

    [Fact]
    public void Picks_the_least_outstanding_and_skips_excluded()
    {
        var list = new[] { E("a", 3), E("b", 1), E("c", 2) };
        Assert.Equal("b", LeastOutstandingBalancer.Pick(list)!.ReplicaId);
        Assert.Equal("c", LeastOutstandingBalancer.Pick(list, [list[1]])!.ReplicaId);
        Assert.Null(LeastOutstandingBalancer.Pick(list, list));
        // The same replica ID at a new process (restarted in place) is a new endpoint.
        Assert.Equal("b", LeastOutstandingBalancer.Pick([list[0], E("b", 1), list[2]], [list[1]])!.ReplicaId);
        Assert.Null(LeastOutstandingBalancer.Pick([]));
    }

    [Fact]
    public void Spreads_a_burst_evenly_over_equal_replicas()
    {
        var list = new[] { E("a", 0), E("b", 0), E("c", 0) };
        for (var i = 0; i < 30; i++) LeastOutstandingBalancer.Pick(list)!.Begin();
        Assert.All(list, e => Assert.Equal(10, e.Outstanding));
    }

    [Fact]
    public void Hold_queue_is_bounded_and_counts_back_down()
    {
        var q = new HoldQueue(2);
        Assert.True(q.TryEnter());
        Assert.True(q.TryEnter());
        Assert.False(q.TryEnter());
        q.Leave();
        Assert.True(q.TryEnter());
        q.Leave();
        q.Leave();
        Assert.Equal(0, q.Count);
        Assert.Throws<InvalidOperationException>(q.Leave);
    }

    [Fact]
    public async Task Hold_queue_admits_exactly_its_capacity_under_contention()
    {
        var q = new HoldQueue(50);
        var admitted = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 100; i++) if (q.TryEnter()) Interlocked.Increment(ref admitted);
        })));
        Assert.Equal(50, admitted);
        Assert.Equal(50, q.Count);
    }
}

public class RelayTests
{
    private static (string Output, bool Ended) Relay(params string[] events) => Relay(0, events);

    /// <summary>Relays events each cut into segments of at most <paramref name="segmentBytes"/> (0: one segment).</summary>
    private static (string Output, bool Ended) Relay(int segmentBytes, params string[] events)
    {
        var relay = new SseRelay();
        var output = new ArrayBufferWriter<byte>();
        foreach (var e in events) relay.Write(Segmented(Encoding.UTF8.GetBytes(e), segmentBytes), output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), relay.Ended);
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentBytes)
    {
        if (segmentBytes <= 0 || bytes.Length <= segmentBytes)
        {
            return new ReadOnlySequence<byte>(bytes);
        }
        var first = new Segment(bytes.AsMemory(0, segmentBytes), 0);
        var last = first;
        for (var at = segmentBytes; at < bytes.Length; at += segmentBytes)
        {
            last = last.Append(bytes.AsMemory(at, Math.Min(segmentBytes, bytes.Length - at)));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Fact]
    public void Passes_events_through_unchanged_and_knows_how_a_stream_ended()
    {
        string[] events =
        [
            """data: {"id":"x","choices":[{"index":0,"text":"a"}],"usage":null}""",
            """data: {"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}""",
            "data: [DONE]",
        ];
        // However the read buffer splits an event, it passes through the same and ends the same.
        foreach (var segmentBytes in new[] { 0, 1, 2, 3, 7, 64 })
        {
            Assert.Equal((string.Concat(events.Select(e => e + "\n\n")), true), Relay(segmentBytes, events));
            Assert.False(Relay(segmentBytes, events[..2]).Ended);
            Assert.True(Relay(segmentBytes, events[0], """data: {"error":{"message":"boom","type":"server_error"}}""").Ended);
            Assert.True(Relay(segmentBytes, """data:   {"error":{"message":"spaced"}}""").Ended);
            // "error" inside a chunk's text is not an error event, nor a stream that merely starts like [DONE].
            Assert.False(Relay(segmentBytes, """data: {"id":"x","choices":[{"text":"{\"error\":1}"}]}""").Ended);
            Assert.False(Relay(segmentBytes, "data: [DONE]x").Ended);
        }
    }

    [Fact]
    public void A_cut_off_stream_ends_with_an_error_event_in_openai_shape()
    {
        var relay = new SseRelay();
        var output = new ArrayBufferWriter<byte>();
        relay.Write(new ReadOnlySequence<byte>("""data: {"id":"x","choices":[{"index":0,"text":"a"}]}"""u8.ToArray()), output);
        relay.WriteError(output, new OpenAiError(502, "gone", "server_error", "upstream_error"));
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.EndsWith("""data: {"error":{"message":"gone","type":"server_error","param":null,"code":"upstream_error"}}""" + "\n\n", text);
        Assert.DoesNotContain("[DONE]", text);
        Assert.True(relay.Ended);
    }

    [Fact]
    public void Reads_usage_from_a_whole_response()
    {
        var json = """{"choices":[{"index":0,"message":{"content":"{\"usage\":1}"}}],"usage":{"completion_tokens":9,"prompt_tokens":2}}"""u8;
        Assert.True(TokenUsage.TryRead(json, out var usage));
        Assert.Equal(new TokenUsage(2, 9), usage);
        Assert.False(TokenUsage.TryRead("""{"error":{"message":"x"}}"""u8, out _));
        Assert.False(TokenUsage.TryRead("not json"u8, out _));
    }

    [Fact]
    public void Body_is_passed_through_unless_the_model_must_change()
    {
        var raw = Encoding.UTF8.GetBytes("""{"model":"accounts/a/models/m","prompt":"hi"}""");
        var body = InferenceBody.Parse(raw);
        Assert.Same(raw, body.ForReplica("accounts/a/models/m"));
        Assert.Contains("\"model\":\"accounts/a/models/x\"", Encoding.UTF8.GetString(body.ForReplica("accounts/a/models/x")));

        // A stream's usage comes from the replica's ledger: the body is not touched to ask for it.
        var streamBytes = Encoding.UTF8.GetBytes("""{"model":"accounts/a/models/m","stream":true,"stream_options":{}}""");
        var stream = InferenceBody.Parse(streamBytes);
        Assert.True(stream.Stream);
        Assert.Same(streamBytes, stream.ForReplica("accounts/a/models/m"));

        Assert.Equal(400, Assert.Throws<OpenAiError>(() => InferenceBody.Parse("[1]"u8.ToArray())).Status);
        Assert.Equal("model", Assert.Throws<OpenAiError>(() => InferenceBody.Parse("""{"prompt":"x"}"""u8.ToArray())).Param);
    }
}

public class ForwardedPathTests
{
    [Theory]
    [InlineData("POST", "/v1/completions", "v1/completions")]
    [InlineData("POST", "/inference/v1/completions", "v1/completions")]
    [InlineData("POST", "/v1/chat/completions", "v1/chat/completions")]
    [InlineData("POST", "/inference/v1/chat/completions", "v1/chat/completions")]
    // Everything else goes through endpoint routing, which also matches these spellings of the same routes.
    [InlineData("POST", "/V1/completions", null)]
    [InlineData("POST", "/v1/completions/", null)]
    [InlineData("GET", "/v1/completions", null)]
    [InlineData("POST", "/v1/models", null)]
    [InlineData("POST", "/v1/accounts", null)]
    public void Only_a_post_to_completions_as_clients_spell_it_skips_routing(string method, string path, string? expected)
    {
        var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        ctx.Request.Method = method;
        ctx.Request.Path = path;
        Assert.Equal(expected, InferenceRoutes.ForwardedPath(ctx.Request));
    }
}
