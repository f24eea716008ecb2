using Kiln.Server.Replica;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Tests.Replica;

public class WarmupGateTests
{
    private static DefaultHttpContext Request(string? key)
    {
        var ctx = new DefaultHttpContext();
        if (key is not null) ctx.Request.Headers[HttpWarmup.KeyHeader] = key;
        return ctx;
    }

    [Fact]
    public void Before_ready_only_requests_with_the_warm_up_key_reach_the_warm_up_session()
    {
        var options = new ReplicaOptions { ModelPath = "/models/fake-model.gguf", MaxBatchSize = 2 };
        var state = new ReplicaState(options);
        var model = new FakeModel(256, 2);
        var warming = new ModelSession(model, new FakeTokenizer(), new LastMessageFormatter(), options, ownsModels: false);
        state.Warming(warming);

        Assert.Same(warming, state.RequireSession(Request(state.WarmupKey)));
        foreach (var key in new[] { null, "", "0123", state.WarmupKey.ToLowerInvariant(), state.WarmupKey + "0" })
        {
            var e = Assert.Throws<ApiException>(() => state.RequireSession(Request(key)));
            Assert.Equal(503, e.Status);
            Assert.Equal("model_loading", e.Code);
        }

        state.Warming(null);
        warming.Dispose();
        Assert.False(model.Disposed); // the warm-up borrowed the model
        Assert.Equal(503, Assert.Throws<ApiException>(() => state.RequireSession(Request(state.WarmupKey))).Status);

        using var serving = new ModelSession(model, new FakeTokenizer(), new LastMessageFormatter(), options);
        state.Loaded(serving);
        Assert.Same(serving, state.RequireSession(Request(null)));
        Assert.Same(serving, state.RequireSession(Request(state.WarmupKey)));
    }
}
