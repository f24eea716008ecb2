using Kiln.Engine.Gguf;

namespace Kiln.Engine.Tests.Gguf;

/// <summary>
/// Mutates and truncates real model files thousands of times: every outcome must be either a
/// successful parse whose tensor views stay inside the image, or one <see cref="GgufFormatException"/>.
/// </summary>
public class GgufFuzzTests
{
    public static TheoryData<string> Models() =>
        ["stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "TinyStories-656K-Q2_K.gguf", "synth-15m-q4_0.gguf", "synth-15m-q4_k_m.gguf"];

    [SharedTheory]
    [MemberData(nameof(Models))]
    public void MutationsAndTruncationsFailCleanly(string model)
    {
        var original = File.ReadAllBytes(SharedFiles.Model(model));
        long headerEnd;
        using (var f = GgufFile.Parse((byte[])original.Clone())) headerEnd = f.DataOffset;
        var rng = new Random(model.Length * 7919);
        var image = (byte[])original.Clone();
        var failures = 0;
        // The 15M files carry a 32k-token vocabulary that dominates parse time; fewer rounds suffice there.
        var rounds = original.Length > 4 << 20 ? 400 : 1500;

        for (var iter = 0; iter < rounds; iter++)
        {
            // Mutate mostly the header (where structure lives), sometimes anywhere.
            var edits = new List<(int At, byte Old)>();
            var count = 1 + rng.Next(4);
            for (var k = 0; k < count; k++)
            {
                var at = rng.Next(10) < 9 ? rng.Next((int)headerEnd) : rng.Next(image.Length);
                edits.Add((at, image[at]));
                image[at] = rng.Next(4) switch
                {
                    0 => 0xFF,
                    1 => 0x00,
                    2 => (byte)(image[at] ^ (1 << rng.Next(8))),
                    _ => (byte)rng.Next(256),
                };
            }
            failures += Check(image, image.Length, $"{model} mutation {iter}");
            for (var k = edits.Count - 1; k >= 0; k--) image[edits[k].At] = edits[k].Old;
        }

        for (var iter = 0; iter < rounds / 5; iter++)
        {
            var len = rng.Next(3) == 0 ? rng.Next(original.Length) : rng.Next((int)Math.Min(headerEnd + 64, original.Length));
            failures += Check(original, len, $"{model} truncated to {len}");
        }
        Assert.True(failures > 0, "fuzzing should have produced some rejected files");
    }

    private static int Check(byte[] image, int length, string what)
    {
        try
        {
            using var f = GgufFile.Parse(image, length);
            foreach (var t in f.Tensors)
            {
                var bytes = f.TensorBytes(t);
                Assert.True(f.DataOffset + t.Offset + bytes.Length <= length, what);
            }
            return 0;
        }
        catch (GgufFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Problem), what);
            Assert.InRange(e.Offset, 0, length);
            return 1;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }
}
