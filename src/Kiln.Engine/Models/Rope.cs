namespace Kiln.Engine.Models;

/// <summary>
/// Rotary position embedding with a precomputed cos/sin table per position. Angles follow
/// llama.cpp's recurrence (theta *= base^(-2/d) in single precision) so logits agree closely.
/// </summary>
public sealed class Rope
{
    private readonly float[] _cos;
    private readonly float[] _sin;
    private readonly int _half;

    public Rope(ModelConfig c, int contextLength, float[]? freqFactors)
    {
        Dimensions = c.RopeDimensions;
        Style = c.RopeStyle;
        _half = Dimensions / 2;
        _cos = new float[contextLength * _half];
        _sin = new float[contextLength * _half];
        var thetaScale = MathF.Pow(c.RopeFreqBase, -2.0f / Dimensions);
        for (var p = 0; p < contextLength; p++)
        {
            var theta = p * c.RopeFreqScale;
            for (var i = 0; i < _half; i++)
            {
                var t = freqFactors is null ? theta : theta / freqFactors[i];
                _cos[p * _half + i] = MathF.Cos(t);
                _sin[p * _half + i] = MathF.Sin(t);
                theta *= thetaScale;
            }
        }
    }

    public int Dimensions { get; }
    public RopeStyle Style { get; }

    /// <summary>Rotates every head of <paramref name="x"/> (heads of <paramref name="headDim"/>) in place.</summary>
    public void Apply(Span<float> x, int heads, int headDim, int position)
    {
        var cos = _cos.AsSpan(position * _half, _half);
        var sin = _sin.AsSpan(position * _half, _half);
        for (var h = 0; h < heads; h++)
        {
            var v = x.Slice(h * headDim, headDim);
            if (Style == RopeStyle.AdjacentPairs)
            {
                for (var i = 0; i < _half; i++)
                {
                    float a = v[2 * i], b = v[2 * i + 1];
                    v[2 * i] = a * cos[i] - b * sin[i];
                    v[2 * i + 1] = a * sin[i] + b * cos[i];
                }
            }
            else
            {
                for (var i = 0; i < _half; i++)
                {
                    float a = v[i], b = v[i + _half];
                    v[i] = a * cos[i] - b * sin[i];
                    v[i + _half] = a * sin[i] + b * cos[i];
                }
            }
        }
    }
}
