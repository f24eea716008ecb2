using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Lora;

/// <summary>Requests for different adapters and the base share the scheduler's continuous batch.</summary>
public class SchedulerLoraTests
{
    [SharedFact]
    public async Task ConcurrentRequestsWithDifferentAdaptersEachMatchTheirGolden()
    {
        using var model = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"), slots: 5);
        var tokenizer = TokenizerFactory.FromGguf(model.File);
        var qv = model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf")));
        var all = model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-all-r8.gguf")));
        (string File, LoraSet? Set)[] runs =
        [
            ("stories260K-base.json", null),
            ("stories260K-lora-qv-r4.json", LoraSet.Single(qv)),
            ("stories260K-lora-qv-r4-scale0.5.json", LoraSet.Single(qv, 0.5f)),
            ("stories260K-lora-all-r8.json", LoraSet.Single(all)),
            ("stories260K-lora-stacked.json", new([new LoraSetEntry(qv, 0.5f), new LoraSetEntry(all, 1f)])),
        ];
        using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = 5 });
        var expected = new List<string>();
        var generations = new List<Generation>();
        foreach (var (file, set) in runs)
        {
            foreach (var (c, _) in LoraGolden.Load(file).Cases)
            {
                expected.Add(c.GreedyText);
                generations.Add(scheduler.Submit(new GenerationRequest(c.PromptTokens)
                {
                    MaxTokens = c.GreedyTokens.Length,
                    Sampling = SamplingParams.Greedy,
                    Adapters = set,
                }));
            }
        }
        var results = await Task.WhenAll(generations.Select(g => g.CollectAsync()));
        Assert.Equal(expected, results.Select(r => r.Text));
        await Task.WhenAll(generations.Select(g => g.Finished)).WaitAsync(TimeSpan.FromSeconds(5));
    }
}
