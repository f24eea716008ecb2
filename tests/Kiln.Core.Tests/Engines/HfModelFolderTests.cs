using System.Buffers.Binary;
using System.Text;
using Kiln.Core.ModelFiles;

namespace Kiln.Core.Tests.Engines;

public class HfModelFolderTests
{
    private static (byte[] First8, byte[] Header, long Size) File(string headerJson, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var first8 = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(first8, (ulong)header.Length);
        return (first8, header, 8 + header.Length + dataBytes);
    }

    [Fact]
    public void A_well_formed_header_gives_tensors_parameters_and_bytes()
    {
        var (first8, header, size) = File("""{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[4],"data_offsets":[12,28]}}""", 28);
        Assert.Equal(header.Length, HfModelFolder.HeaderLength("m.safetensors", first8, size));
        Assert.Equal((2, 10L, 28L), HfModelFolder.ReadHeader("m.safetensors", header, size));
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,10]}}""", 12, "needs 12")]
    [InlineData("""{"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}""", 8, "outside")]
    [InlineData("""{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}""", 2, "unknown dtype")]
    [InlineData("""{"a":{"shape":[2]}}""", 0, "lacks")]
    [InlineData("""{}""", 0, "no tensors")]
    [InlineData("""[1""", 0, "not valid JSON")]
    public void A_malformed_header_is_refused_naming_the_file(string json, int data, string expected)
    {
        var (_, header, size) = File(json, data);
        var e = Assert.Throws<HfModelException>(() => HfModelFolder.ReadHeader("x.safetensors", header, size));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x.safetensors", e.Message);
    }

    [Fact]
    public void A_header_length_past_the_file_is_not_safetensors()
    {
        var first8 = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(first8, 1_000);
        Assert.Throws<HfModelException>(() => HfModelFolder.HeaderLength("x.safetensors", first8, 100));
    }

    [Fact]
    public void Config_gives_architecture_dtype_and_context()
    {
        Assert.Equal(("LlamaForCausalLM", "bfloat16", (int?)4096),
            HfModelFolder.ReadConfig("""{"architectures":["LlamaForCausalLM"],"torch_dtype":"bfloat16","max_position_embeddings":4096}"""));
        Assert.Equal(("qwen2", "float16", (int?)null), HfModelFolder.ReadConfig("""{"model_type":"qwen2","dtype":"float16"}"""));
        Assert.Throws<HfModelException>(() => HfModelFolder.ReadConfig("""{"torch_dtype":"bfloat16"}"""));
        Assert.Throws<HfModelException>(() => HfModelFolder.ReadConfig("""{"architectures":["X"]}"""));
    }
}

public class HfModelFolderInspectTests
{
    private sealed class Files(Dictionary<string, byte[]> files) : IModelFolderFiles
    {
        public IReadOnlyList<string> Names => [.. files.Keys];
        public long Size(string name) => files[name].Length;
        public byte[] Read(string name, long offset, int count) => files[name].Skip((int)offset).Take(count).ToArray();
    }

    private static byte[] Safetensors(string header, int data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    [Fact]
    public void A_folder_sums_its_weight_files_and_reads_its_config()
    {
        var facts = HfModelFolder.Inspect(new Files(new()
        {
            ["config.json"] = Encoding.UTF8.GetBytes("""{"architectures":["LlamaForCausalLM"],"torch_dtype":"float16"}"""),
            ["model-00001-of-00002.safetensors"] = Safetensors("""{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}""", 8),
            ["model-00002-of-00002.safetensors"] = Safetensors("""{"b":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4),
            ["tokenizer.json"] = "{}"u8.ToArray(),
        }));
        Assert.Equal(new HfModelFacts("LlamaForCausalLM", "float16", null, 6, 12), facts);
    }

    [Fact]
    public void A_folder_without_config_or_weights_is_refused()
    {
        Assert.Contains("config.json", Assert.Throws<HfModelException>(() => HfModelFolder.Inspect(new Files(new() { ["m.safetensors"] = [] }))).Message);
        Assert.Contains("safetensors", Assert.Throws<HfModelException>(() => HfModelFolder.Inspect(new Files(new()
        {
            ["config.json"] = Encoding.UTF8.GetBytes("""{"model_type":"llama","torch_dtype":"float16"}"""),
            ["model.bin"] = [1, 2],
        }))).Message);
    }
}
