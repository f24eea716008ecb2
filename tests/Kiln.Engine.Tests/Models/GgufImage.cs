using System.Text;
using Kiln.Engine.Gguf;

namespace Kiln.Engine.Tests.Models;

/// <summary>
/// An editable GGUF file for mutation tests: header fields, metadata entries and tensor infos are plain
/// values, serialized exactly as given, so a test can write what <see cref="GgufWriter"/> would refuse
/// (wrong counts, unknown type ids, offsets outside the file, overlapping tensors).
/// </summary>
public sealed class GgufImage
{
    public sealed class Tensor(string name, uint type, ulong[] dims, byte[] data)
    {
        public string Name = name;
        public uint Type = type;
        public ulong[] Dims = dims;
        public byte[] Data = data;
        /// <summary>Written instead of the laid-out offset when set.</summary>
        public ulong? Offset;
    }

    public uint Magic = GgufFile.Magic;
    public uint Version = 3;
    public ulong? TensorCount;
    public ulong? MetadataCount;
    public List<KeyValuePair<string, object>> Metadata = [];
    public List<Tensor> Tensors = [];

    /// <summary>Offsets of the 64-bit counts, key lengths and tensor name lengths in the last <see cref="ToBytes"/> output, for byte-level edits.</summary>
    public readonly List<long> LengthFields = [];

    /// <summary>Offset of the tensor data section in the last <see cref="ToBytes"/> output.</summary>
    public long DataOffset { get; private set; }

    public static GgufImage From(byte[] gguf)
    {
        using var f = GgufFile.Parse(gguf);
        var image = new GgufImage { Version = f.Version };
        foreach (var (k, v) in f.Metadata) image.Metadata.Add(new(k, v));
        foreach (var t in f.Tensors)
            image.Tensors.Add(new Tensor(t.Name, (uint)t.Type, [.. t.Shape.Select(d => (ulong)d)], f.TensorBytes(t).ToArray()));
        return image;
    }

    public GgufImage Clone()
    {
        var c = (GgufImage)MemberwiseClone();
        c.Metadata = [.. Metadata];
        c.Tensors = [.. Tensors.Select(t => new Tensor(t.Name, t.Type, (ulong[])t.Dims.Clone(), t.Data) { Offset = t.Offset })];
        return c;
    }

    public object? Get(string key) => Metadata.FirstOrDefault(kv => kv.Key == key).Value;

    public void Set(string key, object value)
    {
        var i = Metadata.FindIndex(kv => kv.Key == key);
        if (i >= 0) Metadata[i] = new(key, value);
        else Metadata.Add(new(key, value));
    }

    public bool Remove(string key) => Metadata.RemoveAll(kv => kv.Key == key) > 0;

    public Tensor? Find(string name) => Tensors.Find(t => t.Name == name);

    public byte[] ToBytes()
    {
        LengthFields.Clear();
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(Magic);
        w.Write(Version);
        LengthFields.Add(ms.Position);
        w.Write(TensorCount ?? (ulong)Tensors.Count);
        LengthFields.Add(ms.Position);
        w.Write(MetadataCount ?? (ulong)Metadata.Count);
        foreach (var (key, value) in Metadata)
        {
            WriteString(w, key);
            GgufWriter.WriteTypedValue(w, value);
        }
        const int alignment = GgufFile.DefaultAlignment;
        ulong offset = 0;
        var offsets = new ulong[Tensors.Count];
        for (var i = 0; i < Tensors.Count; i++)
        {
            var t = Tensors[i];
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims) w.Write(d);
            w.Write(t.Type);
            offsets[i] = offset;
            w.Write(t.Offset ?? offset);
            offset += ((ulong)t.Data.Length + alignment - 1) / alignment * alignment;
        }
        Pad(w, alignment);
        DataOffset = ms.Position;
        for (var i = 0; i < Tensors.Count; i++)
        {
            ms.Position = DataOffset + (long)offsets[i];
            w.Write(Tensors[i].Data);
        }
        ms.Position = ms.Length;
        Pad(w, alignment);
        return ms.ToArray();
    }

    private static void Pad(BinaryWriter w, int alignment)
    {
        while (w.BaseStream.Position % alignment != 0) w.Write((byte)0);
    }

    private void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        LengthFields.Add(w.BaseStream.Position);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
