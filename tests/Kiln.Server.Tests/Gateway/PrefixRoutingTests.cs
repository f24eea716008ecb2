using System.Text;
using Kiln.Server.Gateway;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Tests.Gateway;

public class PrefixRoutingTests
{
    private static ReplicaEndpoint E(string id, int outstanding = 0)
    {
        var e = new ReplicaEndpoint(id, new Uri($"http://{id}.test/"));
        for (var i = 0; i < outstanding; i++) e.Begin();
        return e;
    }

    private static RoutingKey Key(string json) => InferenceBody.Parse(Encoding.UTF8.GetBytes(json)).Routing;

    private static RoutingKey Prefix(int i) => Key($$"""{"model":"m","prompt":"prompt number {{i}}"}""");

    [Fact]
    public void A_key_always_lands_on_the_same_replica_and_keys_spread_over_replicas()
    {
        var list = new[] { E("a"), E("b"), E("c") };
        var seen = new Dictionary<string, int>();
        for (var i = 0; i < 300; i++)
        {
            var first = PrefixAffinityBalancer.Pick(list, Prefix(i), 1.25)!;
            Assert.Same(first, PrefixAffinityBalancer.Pick(list, Prefix(i), 1.25));
            seen[first.ReplicaId] = seen.GetValueOrDefault(first.ReplicaId) + 1;
        }
        Assert.All(seen.Values, n => Assert.InRange(n, 60, 140));
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void Removing_a_replica_moves_only_the_keys_it_held()
    {
        var list = new[] { E("a"), E("b"), E("c") };
        var without = new[] { list[0], list[2] };
        for (var i = 0; i < 200; i++)
        {
            var before = PrefixAffinityBalancer.Pick(list, Prefix(i), 1.25)!;
            var after = PrefixAffinityBalancer.Pick(without, Prefix(i), 1.25)!;
            if (before.ReplicaId != "b") Assert.Same(before, after);
        }
    }

    [Fact]
    public void A_saturated_prefix_replica_passes_requests_on_and_a_session_stays_put()
    {
        var list = new[] { E("a"), E("b") };
        var key = Prefix(7);
        var home = PrefixAffinityBalancer.Pick(list, key, 1.25)!;
        var other = list.Single(e => e != home);
        // ceil(1.25 * (m + 1) / 2): home takes 2 before the other has any, then they alternate.
        home.Begin();
        Assert.Same(home, PrefixAffinityBalancer.Pick(list, key, 1.25));
        home.Begin();
        Assert.Same(other, PrefixAffinityBalancer.Pick(list, key, 1.25));
        for (var i = 0; i < 10; i++) home.Begin();
        Assert.Same(other, PrefixAffinityBalancer.Pick(list, key, 1.25));

        var session = RoutingKey.ForSession("user-42");
        var pinned = PrefixAffinityBalancer.Pick(list, session, 1.25)!;
        for (var i = 0; i < 20; i++) pinned.Begin();
        Assert.Same(pinned, PrefixAffinityBalancer.Pick(list, session, 1.25));
        // Unless it failed this request: then the next in the key's order.
        Assert.NotSame(pinned, PrefixAffinityBalancer.Pick(list, session, 1.25, [pinned]));
        Assert.Null(PrefixAffinityBalancer.Pick(list, session, 1.25, list));
    }

    [Fact]
    public void Unkeyed_requests_go_to_the_least_loaded_replica()
    {
        var list = new[] { E("a", 3), E("b", 1), E("c", 2) };
        Assert.Equal("b", PrefixAffinityBalancer.Pick(list, RoutingKey.None, 1.25)!.ReplicaId);
        Assert.Null(PrefixAffinityBalancer.Pick([], Prefix(1), 1.25));
    }

    [Fact]
    public void Chat_keys_cover_the_messages_up_to_the_first_user_turn()
    {
        const string system = """{"role":"system","content":"You are terse."}""";
        var turn1 = Key($$"""{"model":"m","messages":[{{system}},{"role":"user","content":"Hi, I am Ann"}]}""");
        var turn2 = Key($$"""{"model":"m","messages":[{{system}},{"role":"user","content":"Hi, I am Ann"},{"role":"assistant","content":"Hello"},{"role":"user","content":"More"}]}""");
        var otherUser = Key($$"""{"model":"m","messages":[{{system}},{"role":"user","content":"Hi, I am Bob"}]}""");
        var parts = Key($$"""{"model":"m","messages":[{{system}},{"role":"user","content":[{"type":"text","text":"Hi, I am Ann"}]}]}""");
        Assert.False(turn1.Session);
        Assert.NotNull(turn1.Hash);
        Assert.Equal(turn1, turn2);
        Assert.Equal(turn1, parts);
        Assert.NotEqual(turn1, otherUser);
    }

    [Fact]
    public void Prompt_keys_hash_the_leading_characters_or_token_ids_and_user_names_a_session()
    {
        var shared = new string('x', RoutingKey.PrefixChars);
        Assert.Equal(Key($$"""{"model":"m","prompt":"{{shared}}tail one"}"""), Key($$"""{"model":"m","prompt":"{{shared}}tail two"}"""));
        Assert.NotEqual(Key("""{"model":"m","prompt":"short one"}"""), Key("""{"model":"m","prompt":"short two"}"""));
        Assert.Equal(Key("""{"model":"m","prompt":["same start","a"]}"""), Key("""{"model":"m","prompt":["same start","b"]}"""));
        Assert.NotNull(Key("""{"model":"m","prompt":[1,2,3]}""").Hash);
        Assert.Equal(RoutingKey.None, Key("""{"model":"m"}"""));
        Assert.Equal(RoutingKey.None, Key("""{"model":"m","prompt":""}"""));

        var user = Key("""{"model":"m","prompt":"p","user":"u1"}""");
        Assert.True(user.Session);
        Assert.Equal(RoutingKey.ForSession("u1"), user);
        var headers = new HeaderDictionary { [RoutingKey.SessionHeader] = "s9" };
        Assert.Equal(RoutingKey.ForSession("s9"), RoutingKey.Of(headers, user));
        Assert.Equal(user, RoutingKey.Of(new HeaderDictionary(), user));
    }
}
