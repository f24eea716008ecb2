using System.Buffers.Binary;
using System.Text.Json;

namespace Kiln.Core.ModelFiles;

/// <summary>What a Hugging Face model folder's <c>config.json</c> and safetensors headers say.</summary>
/// <param name="Architecture">The first of <c>architectures</c>, else <c>model_type</c>.</param>
/// <param name="Dtype">The weights' dtype (<c>torch_dtype</c>, or <c>dtype</c> in newer files).</param>
/// <param name="ContextLength"><c>max_position_embeddings</c>, when given.</param>
/// <param name="Parameters">Elements over every tensor of every safetensors file.</param>
/// <param name="WeightBytes">Bytes of tensor data.</param>
public sealed record HfModelFacts(string Architecture, string Dtype, int? ContextLength, long Parameters, long WeightBytes);

/// <summary>Read access to a model folder's files by name, so the checks stay free of I/O.</summary>
public interface IModelFolderFiles
{
    /// <summary>The names of the folder's files (no directories).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>A file's size in bytes.</summary>
    long Size(string name);

    /// <summary>Up to <paramref name="count"/> bytes of a file from <paramref name="offset"/>.</summary>
    byte[] Read(string name, long offset, int count);
}

/// <summary>A folder or file that is not a servable Hugging Face model; the message names the file and the problem.</summary>
public sealed class HfModelException(string message) : FormatException(message);

/// <summary>
/// Checks a Hugging Face model folder from its parts, without loading a tensor: <c>config.json</c>
/// must name an architecture and dtype, and each <c>*.safetensors</c> file must have a well-formed
/// header (an 8-byte little-endian length, then that much JSON naming each tensor's dtype, shape
/// and byte range) whose ranges fit the file. The caller reads the bytes; this is arithmetic.
/// </summary>
public static class HfModelFolder
{
    /// <summary>The largest header the format allows (100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The config file's name.</summary>
    public const string ConfigFile = "config.json";

    private static readonly Dictionary<string, int> DtypeBytes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8,
        ["I64"] = 8,
        ["U64"] = 8,
        ["F32"] = 4,
        ["I32"] = 4,
        ["U32"] = 4,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["I16"] = 2,
        ["U16"] = 2,
        ["F8_E4M3"] = 1,
        ["F8_E5M2"] = 1,
        ["I8"] = 1,
        ["U8"] = 1,
        ["BOOL"] = 1,
    };

    /// <summary>
    /// Checks a whole folder: its <c>config.json</c> and every <c>*.safetensors</c> header (at least
    /// one). Throws <see cref="HfModelException"/> naming the first bad file.
    /// </summary>
    public static HfModelFacts Inspect(IModelFolderFiles files)
    {
        if (!files.Names.Contains(ConfigFile))
        {
            throw new HfModelException($"no {ConfigFile}: a Hugging Face model folder holds config.json and *.safetensors");
        }
        var configSize = files.Size(ConfigFile);
        if (configSize > 16 << 20)
        {
            throw new HfModelException($"{ConfigFile}: {configSize} bytes is too large for a model configuration");
        }
        var (architecture, dtype, context) = ReadConfig(System.Text.Encoding.UTF8.GetString(files.Read(ConfigFile, 0, (int)configSize)));
        var weights = files.Names.Where(n => n.EndsWith(".safetensors", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (weights.Count == 0)
        {
            throw new HfModelException("no *.safetensors file: the weights must be in safetensors format");
        }
        long parameters = 0, bytes = 0;
        foreach (var name in weights)
        {
            var size = files.Size(name);
            var length = HeaderLength(name, files.Read(name, 0, 8), size);
            var (_, p, b) = ReadHeader(name, files.Read(name, 8, (int)length), size);
            parameters += p;
            bytes += b;
        }
        return new HfModelFacts(architecture, dtype, context, parameters, bytes);
    }

    /// <summary>True for a name a model folder may hold: a plain file name, no path, not hidden.</summary>
    public static bool IsFileName(string name) =>
        name.Length is > 0 and <= 255 && !name.StartsWith('.') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    /// <summary>The header length the first 8 bytes of <paramref name="file"/> (of <paramref name="fileSize"/> bytes) declare.</summary>
    public static long HeaderLength(string file, ReadOnlySpan<byte> first8, long fileSize)
    {
        if (first8.Length < 8 || fileSize < 8)
        {
            throw new HfModelException($"{file}: too short for a safetensors file ({fileSize} bytes)");
        }
        var n = BinaryPrimitives.ReadUInt64LittleEndian(first8);
        if (n < 2 || n > MaxHeaderBytes || (long)n > fileSize - 8)
        {
            throw new HfModelException($"{file}: not a safetensors file (its header length {n} does not fit the file's {fileSize} bytes)");
        }
        return (long)n;
    }

    /// <summary>Tensor count, elements and data bytes of one safetensors header; throws <see cref="HfModelException"/> for a malformed one.</summary>
    public static (int Tensors, long Parameters, long Bytes) ReadHeader(string file, ReadOnlySpan<byte> header, long fileSize)
    {
        var dataBytes = fileSize - 8 - header.Length;
        try
        {
            using var doc = JsonDocument.Parse(header.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new HfModelException($"{file}: the safetensors header is not a JSON object");
            }
            int tensors = 0;
            long parameters = 0, bytes = 0;
            foreach (var t in doc.RootElement.EnumerateObject())
            {
                if (t.Name == "__metadata__")
                {
                    continue;
                }
                var v = t.Value;
                if (v.ValueKind != JsonValueKind.Object
                    || !v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
                    || !v.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
                    || !v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
                {
                    throw new HfModelException($"{file}: tensor {t.Name} lacks a dtype, shape or data_offsets");
                }
                if (!DtypeBytes.TryGetValue(dtype.GetString()!, out var size))
                {
                    throw new HfModelException($"{file}: tensor {t.Name} has unknown dtype {dtype.GetString()}");
                }
                long elements = 1;
                foreach (var d in shape.EnumerateArray())
                {
                    if (!d.TryGetInt64(out var dim) || dim < 0)
                    {
                        throw new HfModelException($"{file}: tensor {t.Name} has a bad shape");
                    }
                    elements = checked(elements * dim);
                }
                if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin || end > dataBytes)
                {
                    throw new HfModelException($"{file}: tensor {t.Name}'s data_offsets fall outside the file's {dataBytes} data bytes");
                }
                if (end - begin != elements * size)
                {
                    throw new HfModelException($"{file}: tensor {t.Name} holds {end - begin} bytes, but {dtype.GetString()} {shape} needs {elements * size}");
                }
                tensors++;
                parameters += elements;
                bytes += end - begin;
            }
            if (tensors == 0)
            {
                throw new HfModelException($"{file}: the safetensors header names no tensors");
            }
            return (tensors, parameters, bytes);
        }
        catch (JsonException e)
        {
            throw new HfModelException($"{file}: the safetensors header is not valid JSON: {e.Message}");
        }
        catch (OverflowException)
        {
            throw new HfModelException($"{file}: a tensor's shape overflows");
        }
    }

    /// <summary>Architecture, dtype and context length from <c>config.json</c>'s text.</summary>
    public static (string Architecture, string Dtype, int? ContextLength) ReadConfig(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new HfModelException($"{ConfigFile}: not a JSON object");
            }
            string? architecture = null;
            if (root.TryGetProperty("architectures", out var archs) && archs.ValueKind == JsonValueKind.Array
                && archs.GetArrayLength() > 0 && archs[0].ValueKind == JsonValueKind.String)
            {
                architecture = archs[0].GetString();
            }
            else if (root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String)
            {
                architecture = type.GetString();
            }
            if (string.IsNullOrEmpty(architecture))
            {
                throw new HfModelException($"{ConfigFile}: names no architecture (\"architectures\" or \"model_type\")");
            }
            var dtype = (root.TryGetProperty("torch_dtype", out var td) || root.TryGetProperty("dtype", out td)) && td.ValueKind == JsonValueKind.String
                ? td.GetString()!
                : throw new HfModelException($"{ConfigFile}: names no dtype (\"torch_dtype\")");
            int? context = root.TryGetProperty("max_position_embeddings", out var mpe) && mpe.TryGetInt32(out var c) && c > 0 ? c : null;
            return (architecture, dtype, context);
        }
        catch (JsonException e)
        {
            throw new HfModelException($"{ConfigFile}: not valid JSON: {e.Message}");
        }
    }
}
