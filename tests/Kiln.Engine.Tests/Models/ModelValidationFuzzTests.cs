using System.Buffers.Binary;
using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Xunit.Abstractions;

namespace Kiln.Engine.Tests.Models;

/// <summary>
/// Mutates complete models (real and generated) in structured and byte-level ways. For every case,
/// <see cref="ModelValidator.Validate"/> either refuses with a <see cref="GgufFormatException"/> or
/// accepts; whatever it accepts loads as a replica loads it and runs a forward step, and a model it
/// refuses for its weights or hyperparameters is refused by the model's own load in the same words.
/// </summary>
public class ModelValidationFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 640;
    private const int Seed = 20261204;

    private enum Mutation { Header, Hyperparameter, ValueType, Text, Vocabulary, TensorInfo, Truncation, ByteFlip, LengthField }

    [Fact]
    public async Task WhateverValidationAcceptsLoadsAndRuns()
    {
        var seeds = new List<(string Name, GgufImage Image)> { ("generated llama", TestModels.Llama()), ("generated qwen2", TestModels.Qwen2()) };
        seeds.AddRange(TestModels.Real());
        var rng = new Random(Seed);
        var classes = Enum.GetValues<Mutation>();
        var accepted = new int[classes.Length];
        var refused = new int[classes.Length];
        var failures = new List<string>();

        // A watchdog only for hangs: the case count is fixed and every case is a small model.
        var run = Task.Run(() =>
        {
            for (var i = 0; i < Cases; i++)
            {
                var (name, seed) = seeds[i % seeds.Count];
                var kind = classes[rng.Next(classes.Length)];
                var (bytes, what) = Mutate(seed, kind, rng);
                var label = $"case {i} ({name}, {kind}: {what})";
                switch (Check(bytes, label, failures))
                {
                    case true: accepted[(int)kind]++; break;
                    case false: refused[(int)kind]++; break;
                }
            }
        });
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(10))) == run, "the fuzzer hung");
        await run;

        output.WriteLine($"{Cases} cases over {seeds.Count} seeds ({string.Join(", ", seeds.Select(s => s.Name))})");
        foreach (var c in classes) output.WriteLine($"  {c,-15} accepted {accepted[(int)c],4}  refused {refused[(int)c],4}");
        output.WriteLine($"  total           accepted {accepted.Sum(),4}  refused {refused.Sum(),4}");
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n{string.Join("\n", failures.Take(15))}");
        Assert.True(accepted.Sum() > 0 && refused.Sum() > 0, "the mutations should both keep some models loadable and break others");
    }

    /// <summary>True when accepted and loaded, false when refused cleanly, null (with a failure recorded) otherwise.</summary>
    private static bool? Check(byte[] bytes, string label, List<string> failures)
    {
        GgufFile? file = null;
        try
        {
            file = GgufFile.Parse(bytes);
            var validated = ModelValidator.Validate(file);
            try
            {
                LoadAndStep(file, validated);
                return true;
            }
            catch (Exception e)
            {
                failures.Add($"{label}: accepted but failed to load: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                return null;
            }
        }
        catch (GgufFormatException e)
        {
            if (string.IsNullOrWhiteSpace(e.Problem)) failures.Add($"{label}: refused without a reason");
            // One source of truth: the model's own load refuses a refused model with the same words.
            if (file is not null && e is ModelValidationException { Field: { } field } && !field.StartsWith("tokenizer.", StringComparison.Ordinal)
                && LoadRefusal(file) is var load && load != e.Message)
                failures.Add($"{label}: validation said \"{e.Message}\" but the load said \"{load}\"");
            return false;
        }
        catch (Exception e)
        {
            failures.Add($"{label}: {(file is null ? "parse" : "validation")} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            return null;
        }
        finally
        {
            file?.Dispose();
        }
    }

    private static string LoadRefusal(GgufFile file)
    {
        try
        {
            using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 1, Threads = 1 });
            return "(loaded)";
        }
        catch (Exception e)
        {
            return e.Message;
        }
    }

    /// <summary>As a replica: the model at its own context, the tokenizer validation built, one step over two tokens.</summary>
    internal static void LoadAndStep(GgufFile file, ValidatedModel validated)
    {
        using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 1, Threads = 1 });
        Assert.Equal(validated.VocabSize, model.Info.VocabSize);
        Assert.Equal(validated.Tokenizer.VocabSize, model.Info.VocabSize);
        var first = validated.Tokenizer.BosId ?? 0;
        var batch = new Batch();
        batch.Add(first, 0, 0, false);
        batch.Add((first + 1) % model.Info.VocabSize, 0, 1, true);
        Assert.Equal(model.Info.VocabSize, model.Forward(batch).Length);
    }

    private static (byte[] Bytes, string What) Mutate(GgufImage seed, Mutation kind, Random rng)
    {
        var image = seed.Clone();
        var arch = image.Get("general.architecture") as string ?? "llama";
        switch (kind)
        {
            case Mutation.Header:
                switch (rng.Next(4))
                {
                    case 0: image.Magic = (uint)rng.Next(); return (image.ToBytes(), "magic");
                    case 1: image.Version = Pick(rng, 0u, 1u, 2u, 4u, uint.MaxValue); return (image.ToBytes(), $"version {image.Version}");
                    case 2:
                        image.TensorCount = Pick(rng, 0ul, (ulong)image.Tensors.Count - 1, (ulong)image.Tensors.Count + 1, ulong.MaxValue, 1ul << 31);
                        return (image.ToBytes(), $"tensor_count {image.TensorCount}");
                    default:
                        image.MetadataCount = Pick(rng, 0ul, (ulong)image.Metadata.Count - 1, (ulong)image.Metadata.Count + 1, ulong.MaxValue, 1ul << 31);
                        return (image.ToBytes(), $"metadata count {image.MetadataCount}");
                }
            case Mutation.Hyperparameter:
                {
                    var key = Pick(rng, "context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count",
                        "attention.head_count_kv", "rope.dimension_count", "attention.layer_norm_rms_epsilon", "rope.freq_base",
                        "rope.scale_linear", "rope.scaling.factor");
                    var full = $"{arch}.{key}";
                    var old = image.Get(full) is { } o && o is not GgufArray and not string and not bool ? Convert.ToInt64(o is float or double ? 0 : o) : 8;
                    object value = rng.Next(18) switch
                    {
                        0 => 0u,
                        1 => 1u,
                        2 => 2u,
                        3 => 3u,
                        4 => 63u,
                        5 => (uint)Math.Max(old + 1, 0),
                        6 => (uint)Math.Max(old - 1, 0),
                        7 => (uint)Math.Max(old * 2, 0),
                        8 => uint.MaxValue,
                        9 => 2147483648u,
                        10 => int.MaxValue,
                        11 => -1,
                        12 => long.MinValue,
                        13 => (short)-5,
                        14 => Pick(rng, 0f, -1f, float.NaN, float.PositiveInfinity, 1e-30f, 1e30f, 0.5f),
                        15 => ulong.MaxValue,
                        16 => (double)old,
                        _ => (ulong)(1L << rng.Next(8, 24)),
                    };
                    if (key == "rope.scaling.factor") image.Set($"{arch}.rope.scaling.type", "linear");
                    image.Set(full, value);
                    return (image.ToBytes(), $"{full} = {value} ({value.GetType().Name})");
                }
            case Mutation.ValueType:
                {
                    var key = image.Metadata[rng.Next(image.Metadata.Count)].Key;
                    object value = rng.Next(7) switch
                    {
                        0 => "12",
                        1 => true,
                        2 => 7u,
                        3 => 1.5f,
                        4 => new GgufArray(GgufValueType.Int32, new[] { 1, 2, 3 }),
                        5 => new GgufArray(GgufValueType.String, new[] { "a", "b" }),
                        _ => new GgufArray(GgufValueType.String, Array.Empty<string>()),
                    };
                    image.Set(key, value);
                    return (image.ToBytes(), $"{key} as {value}");
                }
            case Mutation.Text:
                {
                    var key = Pick(rng, "general.architecture", "tokenizer.ggml.model", "tokenizer.ggml.pre", "general.name", $"{arch}.rope.scaling.type");
                    var old = image.Get(key) as string ?? "";
                    var value = rng.Next(8) switch
                    {
                        0 => "",
                        1 => old[..rng.Next(old.Length + 1)],
                        2 => old + "\0",
                        3 => old.ToUpperInvariant(),
                        4 => Pick(rng, "llama", "qwen2", "gemma3", "gpt2", "bert", "none", "t5", "yarn", "linear"),
                        5 => new string('x', rng.Next(1, 5000)),
                        6 => "\uFFFD\u2581\U0001F600",
                        _ => old,
                    };
                    if (rng.Next(6) == 0)
                    {
                        image.Remove(key);
                        return (image.ToBytes(), $"{key} removed");
                    }
                    image.Set(key, value);
                    return (image.ToBytes(), $"{key} = \"{(value.Length > 20 ? value[..20] + "..." : value)}\"");
                }
            case Mutation.Vocabulary:
                {
                    var key = Pick(rng, "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token",
                        "tokenizer.ggml.add_eos_token");
                    var old = image.Get(key);
                    if (old is GgufArray a && rng.Next(4) != 0)
                    {
                        var n = a.Values.Length;
                        var keep = Pick(rng, 0, Math.Max(n - 1, 0), n / 2, 1);
                        var values = Array.CreateInstance(a.Values.GetType().GetElementType()!, keep);
                        Array.Copy(a.Values, values, keep);
                        if (rng.Next(3) == 0 && values is string[] s && s.Length > 0) s[rng.Next(s.Length)] = Pick(rng, "", "<s>", s[0]);
                        if (rng.Next(3) == 0 && values is int[] t && t.Length > 0) t[rng.Next(t.Length)] = Pick(rng, -1, 99, 4, 6);
                        image.Set(key, new GgufArray(a.ElementType, values));
                        return (image.ToBytes(), $"{key} cut to {keep} of {n}");
                    }
                    if (rng.Next(5) == 0)
                    {
                        image.Remove(key);
                        return (image.ToBytes(), $"{key} removed");
                    }
                    object value = key.EndsWith("_token", StringComparison.Ordinal) ? rng.Next(2) == 0 : Pick<object>(rng, uint.MaxValue, 2147483648u, -1, 39u, 40u, 511u, 512u, 4096u);
                    image.Set(key, value);
                    return (image.ToBytes(), $"{key} = {value}");
                }
            case Mutation.TensorInfo:
                {
                    var t = image.Tensors[rng.Next(image.Tensors.Count)];
                    switch (rng.Next(7))
                    {
                        case 0:
                            image.Tensors.Remove(t);
                            return (image.ToBytes(), $"dropped {t.Name}");
                        case 1:
                            {
                                var d = rng.Next(t.Dims.Length);
                                t.Dims[d] = Pick(rng, t.Dims[d] * 2, 1ul, t.Dims[d] + 1, t.Dims[d] / 2 + 1, 0ul, ulong.MaxValue);
                                return (image.ToBytes(), $"{t.Name} dim {d} = {t.Dims[d]}");
                            }
                        case 2:
                            t.Dims = rng.Next(3) switch
                            {
                                0 => [.. t.Dims.Reverse()],
                                1 => [.. t.Dims, Pick(rng, 1ul, 2ul)],
                                _ => t.Dims.Length > 1 ? t.Dims[..^1] : [t.Dims[0], 1],
                            };
                            return (image.ToBytes(), $"{t.Name} dims [{string.Join(", ", t.Dims)}]");
                        case 3:
                            t.Type = Pick(rng, 0u, 1u, 2u, 8u, 9u, 10u, 12u, 14u, 15u, 16u, 20u, 24u, 30u, 31u, 99u, (uint)rng.Next(40));
                            return (image.ToBytes(), $"{t.Name} type {t.Type}");
                        case 4:
                            t.Offset = Pick(rng, ulong.MaxValue, 1ul << 40, (ulong)rng.Next(1 << 24) * 32, 1ul, 33ul);
                            return (image.ToBytes(), $"{t.Name} offset {t.Offset}");
                        case 5:
                            t.Offset = 0; // overlaps the first tensor
                            return (image.ToBytes(), $"{t.Name} overlaps the first tensor");
                        default:
                            t.Name = Pick(rng, image.Tensors[0].Name, "", t.Name + ".x", t.Name.Replace("blk.0.", "blk.9.", StringComparison.Ordinal));
                            return (image.ToBytes(), $"tensor renamed to '{t.Name}'");
                    }
                }
            case Mutation.Truncation:
                {
                    var bytes = image.ToBytes();
                    var length = rng.Next(2) == 0 ? rng.Next((int)image.DataOffset) : (int)image.DataOffset + rng.Next(bytes.Length - (int)image.DataOffset);
                    return (bytes[..Math.Max(length, 1)], $"truncated to {length} of {bytes.Length}");
                }
            case Mutation.ByteFlip:
                {
                    var bytes = image.ToBytes();
                    var n = 1 + rng.Next(4);
                    var at = new List<int>();
                    for (var k = 0; k < n; k++)
                    {
                        var i = rng.Next(10) < 7 ? rng.Next((int)image.DataOffset) : rng.Next(bytes.Length);
                        bytes[i] ^= (byte)(1 << rng.Next(8));
                        at.Add(i);
                    }
                    return (bytes, $"bits flipped at {string.Join(", ", at)}");
                }
            default:
                {
                    var bytes = image.ToBytes();
                    var at = (int)image.LengthFields[rng.Next(image.LengthFields.Count)];
                    var old = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
                    var value = Pick(rng, old + 1, old - 1, old + 1000, ulong.MaxValue, 1ul << 31, 0ul, (ulong)bytes.Length);
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
                    return (bytes, $"length at {at}: {old} -> {value}");
                }
        }
    }

    private static T Pick<T>(Random rng, params T[] options) => options[rng.Next(options.Length)];
}
