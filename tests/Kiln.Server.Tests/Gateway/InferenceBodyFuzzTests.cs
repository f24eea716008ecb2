using System.Text;
using System.Text.Json.Nodes;
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
        var parsed = 0;
        foreach (var (i, body, what) in Mutations(42, 5000))
        {
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
    public void Rewriting_the_model_changes_the_model_and_nothing_else()
    {
        var rewritten = 0;
        foreach (var (i, body, what) in Mutations(7, 2000))
        {
            InferenceBody parsed;
            try
            {
                parsed = InferenceBody.Parse(body);
            }
            catch (OpenAiError)
            {
                continue;
            }
            // A name that needs escaping, so the new value is written as JSON, not pasted.
            var model = parsed.Model + "/\"\u00e9\n";
            var expected = JsonNode.Parse(body)!.AsObject();
            expected["model"] = model;
            var actual = JsonNode.Parse(parsed.ForReplica(model));
            Assert.True(JsonNode.DeepEquals(expected, actual), $"case {i} {what}: {Encoding.UTF8.GetString(parsed.ForReplica(model))}");
            Assert.Equal(model, InferenceBody.Parse(parsed.ForReplica(model)).Model);
            rewritten++;
        }
        Assert.InRange(rewritten, 1, 2000);
    }

    /// <summary>Seeded mutations of valid completion and chat bodies.</summary>
    private static IEnumerable<(int Index, byte[] Body, string What)> Mutations(int seed, int count)
    {
        var fuzz = new JsonFuzz(seed);
        var pick = new Random(seed);
        string[] bases = [.. RequestFuzz.CompletionBodies, .. RequestFuzz.ChatBodies];
        for (var i = 0; i < count; i++)
        {
            var (body, what) = fuzz.Mutate(bases[pick.Next(bases.Length)]);
            yield return (i, body, what);
        }
    }

    [Fact]
    public void A_duplicate_key_is_a_400_not_a_crash()
    {
        var e = Assert.Throws<OpenAiError>(() => InferenceBody.Parse("""{"model":"m","max_tokens":4,"max_tokens":5}"""u8.ToArray()));
        Assert.Equal(400, e.Status);
        Assert.Contains("max_tokens", e.Message);
    }
}
