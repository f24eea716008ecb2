using Kiln.Engine.Gguf;

namespace Kiln.Engine.Tests.Models;

/// <summary>
/// A small random F32 llama/qwen2 model built in memory, with its weights kept as arrays so a
/// plain reference forward pass can run on exactly the same numbers.
/// </summary>
public sealed class TinyModel
{
    public string Arch = "llama";
    public int Dim = 32, Layers = 2, Heads = 4, KvHeads = 2, Ffn = 48, Vocab = 40, Context = 64;
    public float Eps = 1e-5f, FreqBase = 10000f, RopeScaleFactor = 1f;
    public bool Tied;
    public bool Bias;
    public readonly Dictionary<string, float[]> Tensors = [];

    public int HeadDim => Dim / Heads;

    public static TinyModel Random(string arch, bool tied, int seed, int dim = 32, int ffn = 48, int vocab = 40)
    {
        var m = new TinyModel
        {
            Arch = arch,
            Tied = tied,
            Bias = arch == "qwen2",
            FreqBase = arch == "qwen2" ? 1_000_000f : 10000f,
            Dim = dim,
            Ffn = ffn,
            Vocab = vocab,
        };
        var rng = new Random(seed);
        float[] Rand(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        var kv = m.KvHeads * m.HeadDim;
        m.Tensors["token_embd.weight"] = Rand(m.Vocab * m.Dim, 1f);
        for (var l = 0; l < m.Layers; l++)
        {
            var p = $"blk.{l}.";
            m.Tensors[p + "attn_norm.weight"] = Rand(m.Dim, 1f).Select(x => 1 + 0.5f * x).ToArray();
            m.Tensors[p + "attn_q.weight"] = Rand(m.Dim * m.Dim, 0.3f);
            m.Tensors[p + "attn_k.weight"] = Rand(kv * m.Dim, 0.3f);
            m.Tensors[p + "attn_v.weight"] = Rand(kv * m.Dim, 0.3f);
            m.Tensors[p + "attn_output.weight"] = Rand(m.Dim * m.Dim, 0.3f);
            if (m.Bias)
            {
                m.Tensors[p + "attn_q.bias"] = Rand(m.Dim, 0.5f);
                m.Tensors[p + "attn_k.bias"] = Rand(kv, 0.5f);
                m.Tensors[p + "attn_v.bias"] = Rand(kv, 0.5f);
            }
            m.Tensors[p + "ffn_norm.weight"] = Rand(m.Dim, 1f).Select(x => 1 + 0.5f * x).ToArray();
            m.Tensors[p + "ffn_gate.weight"] = Rand(m.Ffn * m.Dim, 0.3f);
            m.Tensors[p + "ffn_up.weight"] = Rand(m.Ffn * m.Dim, 0.3f);
            m.Tensors[p + "ffn_down.weight"] = Rand(m.Dim * m.Ffn, 0.3f);
        }
        m.Tensors["output_norm.weight"] = Rand(m.Dim, 1f).Select(x => 1 + 0.5f * x).ToArray();
        if (!tied) m.Tensors["output.weight"] = Rand(m.Vocab * m.Dim, 0.3f);
        return m;
    }

    public byte[] ToGguf()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", Arch);
        w.Add("general.name", "tiny");
        w.Add($"{Arch}.context_length", (uint)Context);
        w.Add($"{Arch}.embedding_length", (uint)Dim);
        w.Add($"{Arch}.block_count", (uint)Layers);
        w.Add($"{Arch}.feed_forward_length", (uint)Ffn);
        w.Add($"{Arch}.attention.head_count", (uint)Heads);
        w.Add($"{Arch}.attention.head_count_kv", (uint)KvHeads);
        w.Add($"{Arch}.attention.layer_norm_rms_epsilon", Eps);
        w.Add($"{Arch}.rope.freq_base", FreqBase);
        if (RopeScaleFactor != 1f)
        {
            w.Add($"{Arch}.rope.scaling.type", "linear");
            w.Add($"{Arch}.rope.scaling.factor", RopeScaleFactor);
        }
        foreach (var (name, data) in Tensors)
        {
            if (data.Length == Dim || name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith("norm.weight", StringComparison.Ordinal))
                w.AddTensor(name, data, data.Length);
            else
            {
                var cols = name.Contains("ffn_down") ? Ffn : name.Contains("attn_output") ? Dim : Dim;
                w.AddTensor(name, data, cols, data.Length / cols);
            }
        }
        using var ms = new MemoryStream();
        w.Write(ms);
        return ms.ToArray();
    }
}

/// <summary>A plain double-precision forward pass over a whole sequence, for checking the engine.</summary>
public static class ReferenceForward
{
    public static double[][] Logits(TinyModel m, int[] tokens)
    {
        int d = m.Dim, hd = m.HeadDim, kvd = m.KvHeads * hd, n = tokens.Length;
        var t = m.Tensors;
        var x = tokens.Select(tok => Enumerable.Range(0, d).Select(i => (double)t["token_embd.weight"][tok * d + i]).ToArray()).ToArray();
        for (var l = 0; l < m.Layers; l++)
        {
            var p = $"blk.{l}.";
            var xn = x.Select(r => Norm(r, t[p + "attn_norm.weight"], m.Eps)).ToArray();
            var q = xn.Select(r => MatVec(t[p + "attn_q.weight"], r, d, d, m.Bias ? t[p + "attn_q.bias"] : null)).ToArray();
            var k = xn.Select(r => MatVec(t[p + "attn_k.weight"], r, kvd, d, m.Bias ? t[p + "attn_k.bias"] : null)).ToArray();
            var v = xn.Select(r => MatVec(t[p + "attn_v.weight"], r, kvd, d, m.Bias ? t[p + "attn_v.bias"] : null)).ToArray();
            for (var i = 0; i < n; i++)
            {
                Rope(q[i], m.Heads, hd, i, m);
                Rope(k[i], m.KvHeads, hd, i, m);
            }
            var attn = new double[n][];
            for (var i = 0; i < n; i++)
            {
                attn[i] = new double[d];
                for (var h = 0; h < m.Heads; h++)
                {
                    var kvh = h / (m.Heads / m.KvHeads);
                    var s = new double[i + 1];
                    for (var j = 0; j <= i; j++)
                    {
                        double dot = 0;
                        for (var c = 0; c < hd; c++) dot += q[i][h * hd + c] * k[j][kvh * hd + c];
                        s[j] = dot / Math.Sqrt(hd);
                    }
                    var max = s.Max();
                    var e = s.Select(z => Math.Exp(z - max)).ToArray();
                    var sum = e.Sum();
                    for (var j = 0; j <= i; j++)
                        for (var c = 0; c < hd; c++) attn[i][h * hd + c] += e[j] / sum * v[j][kvh * hd + c];
                }
            }
            for (var i = 0; i < n; i++)
            {
                var o = MatVec(t[p + "attn_output.weight"], attn[i], d, d, null);
                for (var c = 0; c < d; c++) x[i][c] += o[c];
                var hn = Norm(x[i], t[p + "ffn_norm.weight"], m.Eps);
                var g = MatVec(t[p + "ffn_gate.weight"], hn, m.Ffn, d, null);
                var u = MatVec(t[p + "ffn_up.weight"], hn, m.Ffn, d, null);
                var a = g.Select((gv, c) => gv / (1 + Math.Exp(-gv)) * u[c]).ToArray();
                var down = MatVec(t[p + "ffn_down.weight"], a, d, m.Ffn, null);
                for (var c = 0; c < d; c++) x[i][c] += down[c];
            }
        }
        var output = m.Tied ? t["token_embd.weight"] : t["output.weight"];
        return x.Select(r => MatVec(output, Norm(r, t["output_norm.weight"], m.Eps), m.Vocab, d, null)).ToArray();
    }

    private static double[] Norm(double[] x, float[] w, float eps)
    {
        var ms = x.Sum(v => v * v) / x.Length;
        var s = 1 / Math.Sqrt(ms + eps);
        return x.Select((v, i) => v * s * w[i]).ToArray();
    }

    private static double[] MatVec(float[] w, double[] x, int rows, int cols, float[]? bias)
    {
        var y = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = bias?[r] ?? 0;
            for (var c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    private static void Rope(double[] v, int heads, int hd, int pos, TinyModel m)
    {
        var halfSplit = m.Arch == "qwen2";
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < hd / 2; i++)
            {
                var theta = pos / m.RopeScaleFactor * Math.Pow(m.FreqBase, -2.0 * i / hd);
                var (a, b) = halfSplit ? (h * hd + i, h * hd + i + hd / 2) : (h * hd + 2 * i, h * hd + 2 * i + 1);
                double x0 = v[a], x1 = v[b];
                v[a] = x0 * Math.Cos(theta) - x1 * Math.Sin(theta);
                v[b] = x0 * Math.Sin(theta) + x1 * Math.Cos(theta);
            }
        }
    }
}
