using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Kiln.Engine.Gguf;

/// <summary>
/// A parsed GGUF file (versions 2 and 3). The file is memory-mapped read-only and tensors are
/// zero-copy views into the mapping, valid until the file is disposed.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private readonly byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _byName;
    private readonly Dictionary<string, long> _metadataAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _tensorInfoAt = new(StringComparer.Ordinal);
    private bool _disposed;

    public uint Version { get; }
    public long Length { get; }
    public int Alignment { get; }
    /// <summary>Offset of the tensor data section; tensor offsets are relative to it.</summary>
    public long DataOffset { get; }
    public IReadOnlyDictionary<string, object> Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public string? Path { get; }

    /// <summary>True when the tensors live in a file mapping (pages the OS can drop and re-read), not a pinned array.</summary>
    public bool IsMapped => _map is not null;

    /// <summary>Maps and parses a file; throws <see cref="GgufFormatException"/> if it is malformed.</summary>
    public static GgufFile Open(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0) throw new GgufFormatException("file is empty", 0);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new GgufFile(map, view, default, p, length, path);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Parses an in-memory image (tests, fuzzing); the array is pinned for the file's lifetime.</summary>
    public static GgufFile Parse(byte[] image) => Parse(image, image.Length);

    /// <summary>Parses the first <paramref name="length"/> bytes of an image (a truncated file without a copy).</summary>
    public static GgufFile Parse(byte[] image, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)image.Length, nameof(length));
        if (length == 0) throw new GgufFormatException("file is empty", 0);
        var pin = GCHandle.Alloc(image, GCHandleType.Pinned);
        try
        {
            return new GgufFile(null, null, pin, (byte*)pin.AddrOfPinnedObject(), length, null);
        }
        catch
        {
            pin.Free();
            throw;
        }
    }

    private GgufFile(MemoryMappedFile? map, MemoryMappedViewAccessor? view, GCHandle pin, byte* data, long length, string? path)
    {
        _map = map;
        _view = view;
        _pin = pin;
        _base = data;
        Length = length;
        Path = path;
        try
        {
            var r = new GgufReader(data, length);
            if (length < 4 || r.U32("magic") != Magic)
                throw new GgufFormatException("bad magic: not a GGUF file", 0);
            Version = r.U32("version");
            if (Version == 1)
                throw new GgufFormatException("GGUF version 1 is not supported (it is obsolete; re-convert the model to GGUF v3)", 4);
            if (Version is not (2 or 3))
                throw new GgufFormatException($"unsupported GGUF version {Version} (2 and 3 are supported)", 4);

            // Each tensor info takes at least 8 (name) + 4 (dims) + 8 (one dim) + 4 (type) + 8 (offset) bytes.
            var tensorCount = r.Count("tensor count", 32);
            // Each key/value takes at least 8 (key) + 4 (type) + 1 (value) bytes.
            var kvCount = r.Count("metadata count", 13);

            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (long i = 0; i < kvCount; i++)
            {
                var at = r.Position;
                var key = r.String($"metadata key {i}");
                if (key.Length == 0) throw r.Error($"metadata key {i} is empty", at);
                var type = r.ValueType($"metadata '{key}' type");
                var value = r.Value(type, key);
                if (!metadata.TryAdd(key, value)) throw r.Error($"duplicate metadata key '{key}'", at);
                _metadataAt[key] = at;
            }
            Metadata = metadata;

            Alignment = DefaultAlignment;
            if (metadata.TryGetValue("general.alignment", out var align))
            {
                if (align is not uint a || a == 0 || (a & (a - 1)) != 0 || a > 1 << 20)
                    throw new GgufFormatException($"general.alignment must be a power-of-two uint32, got {align}", r.Position);
                Alignment = (int)a;
            }

            var tensors = new GgufTensorInfo[tensorCount];
            _byName = new Dictionary<string, GgufTensorInfo>((int)Math.Min(tensorCount, 1 << 16), StringComparer.Ordinal);
            for (var i = 0; i < tensorCount; i++)
            {
                var at = r.Position;
                var t = r.TensorInfo(i);
                if (!_byName.TryAdd(t.Name, t)) throw r.Error($"duplicate tensor name '{t.Name}'", at);
                _tensorInfoAt[t.Name] = at;
                if (t.Offset % Alignment != 0)
                    throw r.Error($"tensor '{t.Name}' offset {t.Offset} is not aligned to {Alignment}", at);
                tensors[i] = t;
            }
            Tensors = tensors;

            var dataOffset = (r.Position + Alignment - 1) / Alignment * Alignment;
            if (tensorCount > 0 && dataOffset > length)
                throw new GgufFormatException("file truncated: tensor data section is missing", r.Position);
            DataOffset = dataOffset;
            foreach (var t in tensors)
            {
                if (t.Offset > length - dataOffset || t.ByteSize > length - dataOffset - t.Offset)
                    throw new GgufFormatException(
                        $"tensor '{t.Name}' data [{t.Offset}, +{t.ByteSize}) lies outside the file's {length - dataOffset} data bytes",
                        dataOffset + Math.Min(t.Offset, length - dataOffset));
            }
        }
        catch
        {
            Release();
            throw;
        }
    }

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Offset of a metadata entry (its key) in the file, or -1 when the key is absent; for error messages.</summary>
    public long MetadataOffset(string key) => _metadataAt.TryGetValue(key, out var at) ? at : -1;

    /// <summary>Offset of a tensor's header entry in the file, or -1 when there is no such tensor; for error messages.</summary>
    public long TensorInfoOffset(string name) => _tensorInfoAt.TryGetValue(name, out var at) ? at : -1;

    /// <summary>A zero-copy view of a tensor's bytes.</summary>
    public ReadOnlySpan<byte> TensorBytes(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<byte>(TensorPointer(tensor), checked((int)tensor.ByteSize));
    }

    /// <summary>Address of a tensor's first byte inside the mapping (for tensors larger than 2 GiB too).</summary>
    public byte* TensorPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _base + DataOffset + tensor.Offset;
    }

    // ---- typed metadata accessors -------------------------------------------------------------

    public bool Has(string key) => Metadata.ContainsKey(key);

    public string? GetString(string key) => Metadata.GetValueOrDefault(key) as string;

    /// <summary>An integer value of any integer type, or <paramref name="fallback"/> if absent.</summary>
    public long GetInteger(string key, long fallback)
    {
        if (!Metadata.TryGetValue(key, out var v)) return fallback;
        return v switch
        {
            byte b => b,
            sbyte b => b,
            ushort b => b,
            short b => b,
            uint b => b,
            int b => b,
            ulong b when b <= long.MaxValue => (long)b,
            long b => b,
            bool b => b ? 1 : 0,
            _ => throw WrongType(key, "an integer", v),
        };
    }

    public long? GetIntegerOrNull(string key) => Has(key) ? GetInteger(key, 0) : null;

    public float GetFloat(string key, float fallback)
    {
        if (!Metadata.TryGetValue(key, out var v)) return fallback;
        return v switch
        {
            float f => f,
            double d => (float)d,
            // Integers are accepted as numbers; strings are not (a string value is a wrong type, not a number to parse).
            byte or sbyte or ushort or short or uint or int or ulong or long => Convert.ToSingle(v, System.Globalization.CultureInfo.InvariantCulture),
            _ => throw WrongType(key, "a number", v),
        };
    }

    public bool GetBool(string key, bool fallback) =>
        Metadata.TryGetValue(key, out var v)
            ? v as bool? ?? throw WrongType(key, "a bool", v)
            : fallback;

    /// <summary>A typed array value (string[], float[], int[] ...), or null when absent.</summary>
    public T[]? GetArray<T>(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        if (v is GgufArray { Values: T[] typed }) return typed;
        throw WrongType(key, $"an array of {typeof(T).Name}", v);
    }

    /// <summary>An integer array of any integer element type, widened to int.</summary>
    public int[]? GetIntArray(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        if (v is not GgufArray arr)
            throw WrongType(key, "an integer array", v);
        return arr.Values switch
        {
            int[] a => a,
            uint[] a => Array.ConvertAll(a, x => (int)x),
            sbyte[] a => Array.ConvertAll(a, x => (int)x),
            byte[] a => Array.ConvertAll(a, x => (int)x),
            short[] a => Array.ConvertAll(a, x => (int)x),
            ushort[] a => Array.ConvertAll(a, x => (int)x),
            long[] a => Array.ConvertAll(a, x => (int)x),
            _ => throw WrongType(key, "an integer array", v),
        };
    }

    private static string Describe(object v) => v is GgufArray a ? $"an array of {a.ElementType}" : v.GetType().Name;

    private GgufFormatException WrongType(string key, string expected, object v) =>
        new($"metadata '{key}' should be {expected} but is {Describe(v)}", Math.Max(MetadataOffset(key), 0));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Release();
    }

    private void Release()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        if (_pin.IsAllocated) _pin.Free();
    }
}
