using System.Text.Json;
using Kiln.Core.Engines;

namespace Kiln.Core.Tests.Engines;

public class EngineConfigTests
{
    private static (bool Ok, EngineCatalog Catalog, IReadOnlyList<string> Problems) Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var ok = EngineConfig.TryParse(doc.RootElement, out var catalog, out var problems);
        return (ok, catalog, problems);
    }

    [Fact]
    public void No_engines_section_keeps_the_four_built_ins()
    {
        var (ok, catalog, _) = Parse("{}");
        Assert.True(ok);
        Assert.Equal(["kiln", "llama-server", "sglang", "vllm"], catalog.Names);
    }

    [Fact]
    public void A_built_in_keeps_what_the_file_does_not_change_and_a_custom_profile_is_added()
    {
        var (ok, catalog, problems) = Parse("""
            {"engines": {
              "vllm": {"readinessTimeout": "30m", "environment": {"HF_HUB_OFFLINE": "1"}, "metrics": {"running": ["my:running"]}},
              "tiny": {"command": ["/opt/serve", "{model}", "--port", "{port}"], "modelFormats": ["GGUF"], "healthPath": "/ready",
                       "addons": {"protocol": "none", "reason": "no adapters here"}}
            }}
            """);
        Assert.True(ok, string.Join("\n", problems));
        var vllm = catalog.Find("vllm")!;
        Assert.Equal(TimeSpan.FromMinutes(30), vllm.ReadinessTimeout);
        Assert.Equal("1", vllm.Environment["HF_HUB_OFFLINE"]);
        Assert.Equal(["my:running"], vllm.Metrics.Running);
        Assert.Equal(EngineProfiles.Vllm.Metrics.Waiting, vllm.Metrics.Waiting);
        Assert.Equal(EngineProfiles.Vllm.Command, vllm.Command);
        var tiny = catalog.Find("tiny")!;
        Assert.Equal("/ready", tiny.HealthPath);
        Assert.False(tiny.Addons.Supported);
        Assert.Equal("no adapters here", tiny.Addons.Reason);
    }

    [Fact]
    public void Every_problem_is_reported_with_its_path()
    {
        var (ok, _, problems) = Parse("""
            {"engines": {
              "vllm": {"command": ["vllm", "serve", "{model}", "--gpus", "{gpus}"], "readinessTimeout": "soon"},
              "kiln": {"healthPath": "/x"},
              "Bad_Name": {},
              "custom": {"modelFormats": ["ONNX"], "colour": "blue"}
            }}
            """);
        Assert.False(ok);
        Assert.Contains(problems, p => p.StartsWith("engines.vllm.command:") && p.Contains("unknown placeholder {gpus}"));
        Assert.Contains(problems, p => p.StartsWith("engines.vllm.readinessTimeout:"));
        Assert.Contains(problems, p => p.StartsWith("engines.kiln:"));
        Assert.Contains(problems, p => p.StartsWith("engines.Bad_Name:"));
        Assert.Contains(problems, p => p.StartsWith("engines.custom.command:") && p.Contains("needs its command"));
        Assert.Contains(problems, p => p.StartsWith("engines.custom.modelFormats:") && p.Contains("ONNX"));
        Assert.Contains(problems, p => p.StartsWith("engines.custom.colour:") && p.Contains("unknown field"));
    }
}
