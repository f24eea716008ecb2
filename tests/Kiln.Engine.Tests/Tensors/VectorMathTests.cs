using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class VectorMathTests
{
    private static float[] Random(Random rng, int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    [Fact]
    public void SwiGluMatchesADoubleReferenceAtEveryLength()
    {
        var rng = new Random(3);
        for (int n = 1; n <= 40; n++)
        {
            var gate = Random(rng, n, 30);
            var up = Random(rng, n, 2);
            var expected = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
            VectorMath.SwiGlu(gate, up);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(gate[i] - expected[i]) <= 1e-6 * Math.Abs(expected[i]) + 1e-37, $"n {n} i {i}: {gate[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void RmsNormMatchesADoubleReferenceAtEveryLength()
    {
        var rng = new Random(4);
        for (int n = 1; n <= 40; n++)
        {
            var x = Random(rng, n, 5);
            var w = Random(rng, n, 1);
            var y = new float[n];
            var scale = 1 / Math.Sqrt(x.Sum(v => (double)v * v) / n + 1e-5);
            VectorMath.RmsNorm(x, w, 1e-5f, y);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(y[i] - x[i] * scale * w[i]) <= 1e-6 * Math.Abs(x[i] * scale * w[i]) + 1e-30, $"n {n} i {i}");
        }
    }

    [Fact]
    public void AddCoversTheTail()
    {
        for (int n = 1; n <= 20; n++)
        {
            var y = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
            VectorMath.Add(y, Enumerable.Repeat(0.5f, n).ToArray());
            Assert.Equal(Enumerable.Range(0, n).Select(i => i + 0.5f), y);
        }
    }
}
