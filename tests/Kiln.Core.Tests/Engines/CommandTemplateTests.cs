using Kiln.Core.Engines;

namespace Kiln.Core.Tests.Engines;

public class CommandTemplateTests
{
    private static readonly TemplateValues Values = new("/models/my model", "127.0.0.1", 41234, 4, 256, 8192, "accounts/a/models/m");

    [Fact]
    public void The_vllm_default_expands_every_placeholder_into_one_argument_each()
    {
        var argv = CommandTemplate.Expand(EngineProfiles.Vllm.Command, Values, ["--enable-lora"]);
        Assert.Equal(
            ["vllm", "serve", "/models/my model", "--host", "127.0.0.1", "--port", "41234", "--served-model-name", "accounts/a/models/m",
             "--tensor-parallel-size", "4", "--max-num-seqs", "256", "--max-model-len", "8192", "--enable-lora"],
            argv);
    }

    [Fact]
    public void Without_a_context_the_context_argument_and_its_flag_are_left_out()
    {
        var argv = CommandTemplate.Expand(["serve", "--ctx", "{context}", "--port", "{port}"], Values with { Context = null });
        Assert.Equal(["serve", "--port", "41234"], argv);
    }

    [Fact]
    public void Placeholders_fill_inside_an_argument()
    {
        Assert.Equal(["serve", "--listen=127.0.0.1:41234"], CommandTemplate.Expand(["serve", "--listen={host}:{port}"], Values));
    }

    [Theory]
    [InlineData("{gpus}", "unknown placeholder {gpus}")]
    [InlineData("--port={port", "a '{' without its '}'")]
    [InlineData("x}", "a '}' without its '{'")]
    public void A_bad_placeholder_is_named(string arg, string expected)
    {
        var problems = CommandTemplate.Validate(["serve", arg]);
        Assert.Contains(problems, p => p.Contains(expected) && p.Contains(arg));
        Assert.Throws<ArgumentException>(() => CommandTemplate.Expand(["serve", arg], Values));
    }

    [Fact]
    public void An_empty_command_is_refused()
    {
        Assert.NotEmpty(CommandTemplate.Validate([]));
        Assert.NotEmpty(CommandTemplate.Validate([" "]));
    }

    [Fact]
    public void Every_built_in_template_is_valid()
    {
        foreach (var p in EngineProfiles.BuiltIn.Where(p => !p.IsKiln))
        {
            Assert.Empty(CommandTemplate.Validate(p.Command));
        }
    }
}
