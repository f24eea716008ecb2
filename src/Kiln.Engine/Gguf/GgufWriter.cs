using System.Text;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Gguf;

/// <summary>
/// Writes GGUF v3 files: metadata in insertion order, then tensor infos, then aligned tensor data.
/// Tensor data is produced by a callback at write time so large models never sit in memory whole.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, object Value)> _metadata = [];
    private readonly List<(string Name, GgmlType Type, long[] Shape, long Bytes, Action<Stream> Write)> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GgufWriter(int alignment = GgufFile.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentException("alignment must be a power of two", nameof(alignment));
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment) Add("general.alignment", (uint)alignment);
    }

    public int Alignment { get; }

    /// <summary>
    /// Adds a metadata value: a CLR scalar (byte, sbyte, ushort, short, uint, int, float, bool, string,
    /// ulong, long, double), a typed array of one of those, or a <see cref="GgufArray"/>.
    /// </summary>
    public GgufWriter Add(string key, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key '{key}' added twice", nameof(key));
        TypeOf(value); // validates early
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Copies every metadata entry of another file whose key passes the filter.</summary>
    public GgufWriter CopyMetadata(GgufFile source, Func<string, bool> include)
    {
        foreach (var (key, value) in source.Metadata)
            if (key != "general.alignment" && include(key)) Add(key, value);
        return this;
    }

    /// <summary>Adds a tensor whose bytes <paramref name="write"/> will emit (exactly the computed size).</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, Action<Stream> write)
    {
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' added twice", nameof(name));
        var (bs, bb) = GgufStorage.Layout(type) ?? throw new ArgumentException($"unknown tensor type {type}");
        if (shape.Length is 0 or > 4 || shape.Any(d => d <= 0) || shape[0] % bs != 0)
            throw new ArgumentException($"tensor '{name}' has an invalid shape [{string.Join(", ", shape)}] for {type}");
        long elements = 1;
        foreach (var d in shape) elements = checked(elements * d);
        _tensors.Add((name, type, shape, elements / bs * bb, write));
        return this;
    }

    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, byte[] data)
    {
        AddTensor(name, type, shape, s => s.Write(data));
        var expected = _tensors[^1].Bytes;
        if (data.Length != expected)
        {
            _tensors.RemoveAt(_tensors.Count - 1);
            _names.Remove(name);
            throw new ArgumentException($"tensor '{name}' needs {expected} bytes, got {data.Length}");
        }
        return this;
    }

    public GgufWriter AddTensor(string name, float[] data, params long[] shape) =>
        AddTensor(name, GgmlType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray());

    public void Write(string path)
    {
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            Write(fs);
        File.Move(tmp, path, overwrite: true);
    }

    public void Write(Stream output)
    {
        var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            WriteTypedValue(w, value);
        }
        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (var d in t.Shape) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offsets[i] = offset;
            offset = Align(offset + t.Bytes);
        }
        w.Flush();
        long written = 0;
        Pad(output, Align(output.Position) - output.Position);
        for (var i = 0; i < _tensors.Count; i++)
        {
            Pad(output, offsets[i] - written);
            var before = output.Position;
            _tensors[i].Write(output);
            var n = output.Position - before;
            if (n != _tensors[i].Bytes)
                throw new InvalidOperationException($"tensor '{_tensors[i].Name}' wrote {n} bytes, expected {_tensors[i].Bytes}");
            written = offsets[i] + n;
        }
        output.Flush();
    }

    private long Align(long x) => (x + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream s, long n)
    {
        for (long i = 0; i < n; i++) s.WriteByte(0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>Writes a metadata value as it follows its key: type id, then bytes (also for tests that assemble files by hand).</summary>
    public static void WriteTypedValue(BinaryWriter w, object value)
    {
        var type = TypeOf(value);
        w.Write((uint)type);
        WriteValue(w, type, value);
    }

    private static GgufValueType TypeOf(object value) => value switch
    {
        byte => GgufValueType.UInt8,
        sbyte => GgufValueType.Int8,
        ushort => GgufValueType.UInt16,
        short => GgufValueType.Int16,
        uint => GgufValueType.UInt32,
        int => GgufValueType.Int32,
        float => GgufValueType.Float32,
        bool => GgufValueType.Bool,
        string => GgufValueType.String,
        ulong => GgufValueType.UInt64,
        long => GgufValueType.Int64,
        double => GgufValueType.Float64,
        GgufArray or Array => GgufValueType.Array,
        _ => throw new ArgumentException($"unsupported metadata value type {value.GetType().Name}"),
    };

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write((byte)(v ? 1 : 0)); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            case GgufArray a: WriteArray(w, a.Values); break;
            case Array a: WriteArray(w, a); break;
            default: throw new ArgumentException($"unsupported metadata value of type {type}");
        }
    }

    private static void WriteArray(BinaryWriter w, Array values)
    {
        var elementType = values.GetType().GetElementType()!;
        var type = elementType == typeof(GgufArray) ? GgufValueType.Array
            : elementType == typeof(string) ? GgufValueType.String
            : TypeOf(Activator.CreateInstance(elementType)!);
        w.Write((uint)type);
        w.Write((ulong)values.Length);
        foreach (var v in values) WriteValue(w, type, v!);
    }
}
