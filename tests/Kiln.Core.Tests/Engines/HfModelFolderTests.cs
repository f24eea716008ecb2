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
