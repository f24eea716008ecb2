using System.Text;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Gguf;

/// <summary>
/// Bounds-checked cursor over a GGUF image in memory. Every read checks the remaining length first,
/// and every count is checked against the bytes left before anything is allocated for it, so a
/// hostile file can neither read outside the image nor make the reader allocate more than the file holds.
/// </summary>
internal unsafe ref struct GgufReader
{
    private const int MaxArrayNesting = 4;
    private readonly byte* _base;
    private readonly long _length;
    public long Position;

    public GgufReader(byte* data, long length)
    {
        _base = data;
        _length = length;
        Position = 0;
    }

    public readonly long Remaining => _length - Position;

    public readonly GgufFormatException Error(string problem, long? at = null) => new(problem, at ?? Position);

    private readonly void Need(long bytes, string what)
    {
        if (bytes < 0 || bytes > Remaining)
            throw Error($"file truncated: {what} needs {bytes} bytes but {Math.Max(Remaining, 0)} remain");
    }

    private T Read<T>(string what) where T : unmanaged
    {
        Need(sizeof(T), what);
        var v = *(T*)(_base + Position);
        Position += sizeof(T);
        return v;
    }

    public uint U32(string what) => Read<uint>(what);

    public ulong U64(string what) => Read<ulong>(what);

    /// <summary>A count or length field; bounded by what the rest of the file could possibly hold.</summary>
    public long Count(string what, int minBytesEach)
    {
        var at = Position;
        var raw = U64(what);
        var max = (ulong)Math.Max(Remaining, 0) / (ulong)Math.Max(minBytesEach, 1);
        if (raw > max)
            throw Error($"{what} {raw} is larger than the rest of the file can hold", at);
        return (long)raw;
    }

    /// <summary>A length-prefixed UTF-8 string; <paramref name="index"/> names an array element in errors.</summary>
    public string String(string what, int index = -1)
    {
        var at = Position;
        if (Remaining >= 8)
        {
            var len = *(ulong*)(_base + Position);
            if (len <= (ulong)(Remaining - 8) && len <= int.MaxValue)
            {
                var s = Encoding.UTF8.GetString(_base + Position + 8, (int)len);
                Position += 8 + (long)len;
                return s;
            }
        }
        // Error path: only now format the element's name.
        var name = index >= 0 ? $"{what}[{index}]" : what;
        var n = Count($"{name} length", 1);
        throw Error($"{name} is too long ({n} bytes)", at);
    }

    public GgufValueType ValueType(string what)
    {
        var at = Position;
        var t = U32(what);
        if (t > (uint)GgufValueType.Float64)
            throw Error($"{what}: unknown value type {t}", at);
        return (GgufValueType)t;
    }

    public object Value(GgufValueType type, string key, int depth = 0) => type switch
    {
        GgufValueType.UInt8 => Read<byte>(key),
        GgufValueType.Int8 => Read<sbyte>(key),
        GgufValueType.UInt16 => Read<ushort>(key),
        GgufValueType.Int16 => Read<short>(key),
        GgufValueType.UInt32 => Read<uint>(key),
        GgufValueType.Int32 => Read<int>(key),
        GgufValueType.Float32 => Read<float>(key),
        GgufValueType.Bool => Bool(key),
        GgufValueType.String => String(key),
        GgufValueType.Array => Array(key, depth),
        GgufValueType.UInt64 => Read<ulong>(key),
        GgufValueType.Int64 => Read<long>(key),
        GgufValueType.Float64 => Read<double>(key),
        _ => throw Error($"{key}: unknown value type {(uint)type}"),
    };

    private bool Bool(string key)
    {
        var at = Position;
        var b = Read<byte>(key);
        if (b > 1) throw Error($"{key}: bool value {b} is neither 0 nor 1", at);
        return b == 1;
    }

    private GgufArray Array(string key, int depth)
    {
        if (depth >= MaxArrayNesting) throw Error($"{key}: arrays nested deeper than {MaxArrayNesting}");
        var elementType = ValueType($"{key} array element type");
        var count = Count($"{key} array count", MinBytes(elementType));
        if (count > int.MaxValue) throw Error($"{key}: array of {count} elements is too large");
        var n = (int)count;
        switch (elementType)
        {
            case GgufValueType.UInt8: return new(elementType, Copy<byte>(n, key));
            case GgufValueType.Int8: return new(elementType, Copy<sbyte>(n, key));
            case GgufValueType.UInt16: return new(elementType, Copy<ushort>(n, key));
            case GgufValueType.Int16: return new(elementType, Copy<short>(n, key));
            case GgufValueType.UInt32: return new(elementType, Copy<uint>(n, key));
            case GgufValueType.Int32: return new(elementType, Copy<int>(n, key));
            case GgufValueType.Float32: return new(elementType, Copy<float>(n, key));
            case GgufValueType.UInt64: return new(elementType, Copy<ulong>(n, key));
            case GgufValueType.Int64: return new(elementType, Copy<long>(n, key));
            case GgufValueType.Float64: return new(elementType, Copy<double>(n, key));
            case GgufValueType.Bool:
                {
                    var a = new bool[n];
                    for (var i = 0; i < n; i++) a[i] = Bool(key);
                    return new(elementType, a);
                }
            case GgufValueType.String:
                {
                    var a = new string[n];
                    for (var i = 0; i < n; i++) a[i] = String(key, i);
                    return new(elementType, a);
                }
            default:
                {
                    var a = new GgufArray[n];
                    for (var i = 0; i < n; i++) a[i] = Array($"{key}[{i}]", depth + 1);
                    return new(elementType, a);
                }
        }
    }

    private T[] Copy<T>(int n, string key) where T : unmanaged
    {
        Need((long)n * sizeof(T), $"{key} array");
        var a = new T[n];
        new ReadOnlySpan<T>(_base + Position, n).CopyTo(a);
        Position += (long)n * sizeof(T);
        return a;
    }

    /// <summary>The fewest bytes one element of a type can take, to bound counts before allocating.</summary>
    private static int MinBytes(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => 8,
    };

    public GgufTensorInfo TensorInfo(int index)
    {
        var at = Position;
        var name = String($"tensor {index} name");
        var nDims = U32($"tensor '{name}' dimension count");
        if (nDims is 0 or > 4)
            throw Error($"tensor '{name}' has {nDims} dimensions (1 to 4 allowed)", at);
        var shape = new long[nDims];
        long elements = 1;
        for (var d = 0; d < nDims; d++)
        {
            var dimAt = Position;
            var dim = U64($"tensor '{name}' shape");
            if (dim == 0 || dim > long.MaxValue)
                throw Error($"tensor '{name}' dimension {d} is {dim}", dimAt);
            shape[d] = (long)dim;
            if (elements > long.MaxValue / shape[d])
                throw Error($"tensor '{name}' shape [{string.Join(", ", shape[..(d + 1)])}] overflows", dimAt);
            elements *= shape[d];
        }
        var typeAt = Position;
        var rawType = U32($"tensor '{name}' type");
        var type = (GgmlType)rawType;
        var layout = GgufStorage.Layout(type)
            ?? throw Error($"tensor '{name}' has unknown tensor type {rawType}", typeAt);
        if (shape[0] % layout.BlockSize != 0)
            throw Error($"tensor '{name}' row length {shape[0]} is not a multiple of the {type} block size {layout.BlockSize}", typeAt);
        var blocks = elements / layout.BlockSize;
        if (blocks > long.MaxValue / layout.BlockBytes)
            throw Error($"tensor '{name}' byte size overflows", typeAt);
        var offset = (long)U64($"tensor '{name}' offset");
        return new GgufTensorInfo(name, type, shape, offset, blocks * layout.BlockBytes);
    }
}
