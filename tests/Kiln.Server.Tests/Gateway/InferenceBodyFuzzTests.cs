using Kiln.Server.Gateway;
using Kiln.Server.Tests.Replica;
using Kiln.Tests.Shared;

namespace Kiln.Server.Tests.Gateway;

/// <summary>The gateway's body parser on seeded mutations: it parses or throws a 400, nothing else.</summary>
public class InferenceBodyFuzzTests
{
    [Fact]
    public void Mutated_bodies_parse_or_get_a_400()
    {
        var fuzz = new JsonFuzz(42);
        var pick = new Random(42);
        string[] bases = [.. RequestFuzz.CompletionBodies, .. RequestFuzz.ChatBodies];
        var parsed = 0;
        for (var i = 0; i < 5000; i++)
        {
            var (body, what) = fuzz.Mutate(bases[pick.Next(bases.Length)]);
            try
            {
                InferenceBody.Parse(body);
                parsed++;
            }
            catch (OpenAiError e)
            {
                Assert.True(e.Status == 400, $"case {i} {what}: {e.Status} {e.Message}");
            }
        }
        Assert.InRange(parsed, 1, 4999);
    }

    [Fact]
    public void A_duplicate_key_is_a_400_not_a_crash()
    {
        var e = Assert.Throws<OpenAiError>(() => InferenceBody.Parse("""{"model":"m","max_tokens":4,"max_tokens":5}"""u8.ToArray()));
        Assert.Equal(400, e.Status);
        Assert.Contains("max_tokens", e.Message);
    }
}
