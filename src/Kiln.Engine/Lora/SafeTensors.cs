using System.Buffers.Binary;
using System.Text.Json;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Lora;

/// <summary>One tensor of a safetensors file: its name, dtype, shape and bytes within the data section.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// A safetensors file read whole: an 8-byte little-endian header length, a JSON header mapping names
/// to dtype/shape/data_offsets (relative to the end of the header), then raw little-endian data.
/// Every offset is checked, so a malformed file fails with <see cref="InvalidDataException"/>.
/// </summary>
public sealed class SafeTensors
{
    private readonly byte[] _data;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensors(byte[] data, long dataStart, List<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        _data = data;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<SafeTensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafeTensors Open(string path) => Parse(File.ReadAllBytes(path), path);

    public static SafeTensors Parse(byte[] data, string what = "safetensors data")
    {
        if (data.Length < 8) throw Bad(what, "shorter than its 8-byte header length");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (headerLength < 2 || headerLength > (ulong)(data.Length - 8))
            throw Bad(what, $"header length {headerLength} does not fit the file's {data.Length} bytes");
        var dataStart = 8 + (long)headerLength;
        var dataLength = data.Length - dataStart;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(data.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw Bad(what, $"header is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(what, "header is not a JSON object");
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in p.Value.EnumerateObject())
                            if (m.Value.ValueKind == JsonValueKind.String) metadata[m.Name] = m.Value.GetString()!;
                    continue;
                }
                tensors.Add(ReadInfo(what, p, dataLength));
            }
            return new SafeTensors(data, dataStart, tensors, metadata);
        }
    }

    private static SafeTensorInfo ReadInfo(string what, JsonProperty p, long dataLength)
    {
        var v = p.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Bad(what, $"tensor '{p.Name}' needs dtype, shape and data_offsets [begin, end]");
        var dims = new long[shape.GetArrayLength()];
        var i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var n) || n < 0)
                throw Bad(what, $"tensor '{p.Name}' has an invalid shape");
            dims[i++] = n;
        }
        if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin || end > dataLength)
            throw Bad(what, $"tensor '{p.Name}' data_offsets lie outside the {dataLength} data bytes");
        var info = new SafeTensorInfo(p.Name, dtype.GetString()!, dims, begin, end);
        if (ElementSize(info.DType) is { } size)
        {
            long count = 1;
            foreach (var d in dims) count = checked(count * d);
            if (count * size != end - begin)
                throw Bad(what, $"tensor '{p.Name}' holds {end - begin} bytes but {info.DType} [{string.Join(", ", dims)}] needs {count * size}");
        }
        return info;
    }

    public SafeTensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    public ReadOnlySpan<byte> Bytes(SafeTensorInfo t) => _data.AsSpan((int)(_dataStart + t.Begin), (int)(t.End - t.Begin));

    /// <summary>A tensor's values as float32; F32, F16 and BF16 are supported.</summary>
    public float[] ReadFloats(SafeTensorInfo t)
    {
        var type = t.DType switch
        {
            "F32" => GgmlType.F32,
            "F16" => GgmlType.F16,
            "BF16" => GgmlType.BF16,
            _ => throw new NotSupportedException($"tensor '{t.Name}' has dtype {t.DType}; only F32, F16 and BF16 are supported"),
        };
        var values = new float[(t.End - t.Begin) / ElementSize(t.DType)!.Value];
        Dequantize.Row(type, Bytes(t), values);
        return values;
    }

    private static int? ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => null,
    };

    private static InvalidDataException Bad(string what, string message) => new($"{what}: {message}");
}
