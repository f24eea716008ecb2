using Kiln.Engine.Tensors;
using Kiln.Engine.Tests.Models;
using Xunit.Abstractions;

namespace Kiln.Engine.Tests.Tensors;

/// <summary>Tests that switch the process-wide kernel level, kept apart from every other test.</summary>
[CollectionDefinition(nameof(SimdLevelSwitch), DisableParallelization = true)]
public sealed class SimdLevelSwitch;

/// <summary>
/// Whole forward passes at every kernel level this CPU runs, against llama.cpp's teacher-forced logits
/// (the checks of <see cref="GoldenLogitsTests"/>) on the golden models whose weights go through the
/// packed Q8_0 and Q4_0 kernels.
/// </summary>
[Collection(nameof(SimdLevelSwitch))]
public class SimdLevelGoldenTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => ["TinyStories-656K-Q8_0.gguf", "synth-15m-q4_0.gguf"];

    [SharedTheory]
    [MemberData(nameof(Models))]
    public void EveryLevelMatchesTheReference(string model)
    {
        foreach (var level in SimdLevels.All)
        {
            output.WriteLine($"kernels at {level}:");
            using (Simd.Use(level))
                new GoldenLogitsTests(output).TeacherForcedLogitsMatchReference(model);
        }
    }
}
