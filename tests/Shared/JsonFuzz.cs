using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Tests.Shared;

/// <summary>
/// Seeded mutations of valid JSON request bodies for fuzzing parsers: wrong types and hostile values
/// in any field at any depth, removed and unknown fields, duplicate keys, deep nesting, invalid
/// UTF-8, truncation, byte flips and bodies that are not objects at all.
/// </summary>
internal sealed class JsonFuzz(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>One mutation (occasionally two) of <paramref name="valid"/>, with what was done.</summary>
    public (byte[] Body, string What) Mutate(string valid)
    {
        var (body, what) = MutateOnce(valid);
        if (_random.Next(8) == 0)
        {
            try
            {
                var (again, what2) = MutateOnce(Encoding.UTF8.GetString(body));
                return (again, what + "; " + what2);
            }
            catch (Exception)
            {
                // The first mutation left no object to mutate again.
            }
        }
        return (body, what);
    }

    private (byte[] Body, string What) MutateOnce(string valid)
    {
        var bytes = Encoding.UTF8.GetBytes(valid);
        switch (_random.Next(16))
        {
            case 0:
                var cut = _random.Next(bytes.Length);
                return (bytes[..cut], $"truncated at {cut}");
            case 1:
                var flip = (byte[])bytes.Clone();
                var at = _random.Next(flip.Length);
                flip[at] = (byte)_random.Next(256);
                return (flip, $"byte {at} set to {flip[at]}");
            case 2:
                string[] odd = ["", "null", "[]", "123", "\"text\"", "true", "{", "}", "{}", "[{}]", "\uFEFF{}", "{\"a\":1}{}", " ", "{\"model\":\"m\",}"];
                var pick = odd[_random.Next(odd.Length)];
                return (Encoding.UTF8.GetBytes(pick), $"body '{pick}'");
            case 3:
                return (InvalidUtf8(bytes), "invalid UTF-8 in a string");
            case 4:
                return DuplicateKey(valid);
            default:
                return MutateTree(valid);
        }
    }

    private byte[] InvalidUtf8(byte[] bytes)
    {
        var quote = Array.IndexOf(bytes, (byte)'"', _random.Next(bytes.Length));
        if (quote < 0) quote = Array.IndexOf(bytes, (byte)'"');
        byte[][] bad = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80], "\\ud800"u8.ToArray(), "\\udc00x"u8.ToArray()];
        var insert = bad[_random.Next(bad.Length)];
        return [.. bytes[..(quote + 1)], .. insert, .. bytes[(quote + 1)..]];
    }

    private (byte[], string) DuplicateKey(string valid)
    {
        var root = JsonNode.Parse(valid)!.AsObject();
        var keys = root.Select(p => p.Key).ToArray();
        var key = keys[_random.Next(keys.Length)];
        var value = (_random.Next(2) == 0 ? root[key] : HostileValue())?.ToJsonString() ?? "null";
        // JsonObject cannot hold a key twice, so the duplicate goes in as text.
        var text = "{" + JsonSerializer.Serialize(key) + ":" + value + "," + valid.TrimStart()[1..];
        return (Encoding.UTF8.GetBytes(text), $"duplicate key '{key}'");
    }

    private (byte[], string) MutateTree(string valid)
    {
        var root = JsonNode.Parse(valid)!;
        var nodes = new List<(JsonNode Parent, string? Key, int Index, string Path)>();
        Collect(root, "$", nodes);
        if (nodes.Count == 0) return (Encoding.UTF8.GetBytes(valid), "unchanged");
        var (parent, key, index, path) = nodes[_random.Next(nodes.Count)];
        string what;
        switch (_random.Next(4))
        {
            case 0 when key is not null:
                parent.AsObject().Remove(key);
                what = $"removed {path}";
                break;
            case 1:
                var unknown = "x_" + _random.Next(1000);
                if (parent is JsonObject o && !o.ContainsKey(unknown)) o[unknown] = HostileValue();
                else if (parent is JsonArray a) a.Add(HostileValue());
                what = $"added beside {path}";
                break;
            default:
                var value = HostileValue();
                what = $"{path} = {Describe(value)}";
                if (key is not null) parent.AsObject()[key] = value;
                else parent.AsArray()[index] = value;
                break;
        }
        return (Encoding.UTF8.GetBytes(root.ToJsonString()), what);
    }

    private static void Collect(JsonNode node, string path, List<(JsonNode, string?, int, string)> into)
    {
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o.ToArray())
            {
                into.Add((o, k, -1, $"{path}.{k}"));
                if (v is not null) Collect(v, $"{path}.{k}", into);
            }
        }
        else if (node is JsonArray a)
        {
            for (var i = 0; i < a.Count; i++)
            {
                into.Add((a, null, i, $"{path}[{i}]"));
                if (a[i] is { } v) Collect(v, $"{path}[{i}]", into);
            }
        }
    }

    private static string Describe(JsonNode? v)
    {
        var text = v?.ToJsonString() ?? "null";
        return text.Length <= 40 ? text : text[..40] + $"... ({text.Length} chars)";
    }

    /// <summary>A value of any JSON type, favouring the edges parsers get wrong.</summary>
    public JsonNode? HostileValue()
    {
        switch (_random.Next(14))
        {
            case 0: return null;
            case 1: return _random.Next(2) == 0;
            case 2:
                string[] numbers = ["1e400", "-1e400", "1e30", "-1e30", "1e-400", "-1", "0", "-0", "0.5", "1.5", "2147483648", "-2147483649",
                    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1E2", "123456789012345678901234567890"];
                return JsonNode.Parse(numbers[_random.Next(numbers.Length)]);
            case 3: return _random.Next(-3, 300);
            case 4:
                string[] strings = ["", " ", "NaN", "Infinity", "-1", "1e400", "\u0000", "<s>", "<|im_start|>", "é\u0301", "accounts/x/models/y", "30s", "-5m", "FP16"];
                return strings[_random.Next(strings.Length)];
            case 5: return new string((char)_random.Next(0x20, 0x7F), _random.Next(1, 200_000));
            case 6: return string.Concat(Enumerable.Range(0, _random.Next(1, 2000)).Select(_ => (char)_random.Next(0x20, 0xD7FF)));
            case 7: return new JsonArray();
            case 8: return new JsonObject();
            case 9: return new JsonArray([.. Enumerable.Range(0, _random.Next(1, 3000)).Select(i => (JsonNode?)JsonValue.Create(_random.Next(-5, 70000)))]);
            case 10: return Nested(_random.Next(2, 70));
            case 11: return new JsonArray([.. Enumerable.Range(0, _random.Next(1, 40)).Select(_ => (JsonNode?)JsonValue.Create("s" + _random.Next(100)))]);
            case 12: return new JsonObject { ["role"] = "user", ["content"] = _random.Next(3) == 0 ? null : JsonValue.Create("hi"), ["x"] = _random.Next(5) };
            default: return new JsonArray(new JsonObject { ["type"] = _random.Next(2) == 0 ? "text" : "image_url", ["text"] = "t" });
        }
    }

    private JsonNode Nested(int depth)
    {
        JsonNode node = _random.Next(2) == 0 ? new JsonArray() : new JsonObject();
        for (var i = 0; i < depth; i++) node = _random.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["a"] = node };
        return node;
    }
}
