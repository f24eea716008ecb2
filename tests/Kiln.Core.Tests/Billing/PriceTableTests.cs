using Kiln.Core.Billing;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Billing;

public class PriceTableTests
{
    [Fact]
    public void Defaults_price_every_type()
    {
        foreach (var type in Enum.GetValues<AcceleratorType>())
        {
            Assert.True(PriceTable.Default.PerAcceleratorHour(type) > 0, type.ToWireName());
        }
        Assert.Equal(2.90m, PriceTable.Default.PerAcceleratorHour(AcceleratorType.NvidiaA100_80GB));
        Assert.Equal(5.80m, PriceTable.Default.PerAcceleratorHour(AcceleratorType.NvidiaH100_80GB));
        Assert.Equal(0.05m, PriceTable.Default.PerAcceleratorHour(AcceleratorType.Cpu));
    }

    [Fact]
    public void Configuration_overrides_some_prices_and_keeps_the_rest()
    {
        var table = PriceTable.Parse("""{ "NVIDIA_H100_80GB": 4.25, "CPU": 0.0125 }""");
        Assert.Equal(4.25m, table.PerAcceleratorHour(AcceleratorType.NvidiaH100_80GB));
        Assert.Equal(0.0125m, table.PerAcceleratorHour(AcceleratorType.Cpu));
        Assert.Equal(2.90m, table.PerAcceleratorHour(AcceleratorType.NvidiaA100_80GB));
        Assert.Equal(Enum.GetValues<AcceleratorType>().Length, table.Prices.Count);
        Assert.Equal(5.80m, PriceTable.Default.PerAcceleratorHour(AcceleratorType.NvidiaH100_80GB));
    }

    [Fact]
    public void Prices_are_read_exactly()
    {
        var table = PriceTable.Parse("""{ "NVIDIA_A100_80GB": 0.1000000000000000055511151231257827 }""");
        Assert.Equal(0.1000000000000000055511151231m, table.PerAcceleratorHour(AcceleratorType.NvidiaA100_80GB));
        Assert.Equal(0m, PriceTable.Parse("""{ "CPU": 0 }""").PerAcceleratorHour(AcceleratorType.Cpu));
        Assert.Equal(PriceTable.Default.Prices, PriceTable.Parse("{}").Prices);
    }

    [Theory]
    [InlineData("", "price table is not valid JSON")]
    [InlineData("[1]", "price table must be a JSON object")]
    [InlineData("""{ "TPU_V5": 1 }""", "price table: unknown accelerator type \"TPU_V5\" (expected one of NVIDIA_A100_80GB,")]
    [InlineData("""{ "nvidia_a100_80gb": 1 }""", "price table: unknown accelerator type \"nvidia_a100_80gb\"")]
    [InlineData("""{ "CPU": -0.01 }""", "price table: CPU must be a non-negative number of USD per accelerator-hour, got -0.01")]
    [InlineData("""{ "CPU": "0.05" }""", "price table: CPU must be a non-negative number")]
    [InlineData("""{ "CPU": 1e40 }""", "price table: CPU must be a non-negative number")]
    [InlineData("""{ "CPU": 1, "CPU": 2 }""", "price table: CPU is given twice")]
    public void Bad_configuration_says_what_is_wrong(string json, string message)
    {
        Assert.False(PriceTable.TryParse(json, out var table, out var error));
        Assert.Null(table);
        Assert.StartsWith(message, error);
        Assert.StartsWith(message, Assert.Throws<FormatException>(() => PriceTable.Parse(json)).Message);
    }

    [Fact]
    public void Negative_overrides_are_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PriceTable.With(new Dictionary<AcceleratorType, decimal> { [AcceleratorType.Cpu] = -1 }));
}
