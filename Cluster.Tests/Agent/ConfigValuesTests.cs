using Cluster.Contracts;
using System.Text.Json.Nodes;
using Cluster.Agent.Config;

namespace Cluster.Tests.Agent;

public sealed class ConfigValuesTests
{
    [Theory]
    [InlineData("30s", 30_000_000_0L)]
    [InlineData("1m", 600_000_000L)]
    [InlineData("500ms", 5_000_000L)]
    [InlineData("1h30m", 54_000_000_000L)]
    [InlineData("1.5h", 54_000_000_000L)]
    [InlineData("10us", 100L)]
    [InlineData("10\u00b5s", 100L)]
    [InlineData("150ns", 1L)]
    [InlineData("0", 0L)]
    [InlineData("-2s", -20_000_000L)]
    [InlineData("+.5s", 5_000_000L)]
    [InlineData("1m0.25s", 602_500_000L)]
    public void Go_durations_parse_to_ticks(string text, long ticks)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromTicks(ticks), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("1x")]
    [InlineData("1.2.3s")]
    [InlineData("-")]
    [InlineData(".s")]
    [InlineData("1s ")]
    [InlineData("9999999999999999999h")]
    public void Anything_else_is_not_a_duration(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Fact]
    public void Lists_and_dictionaries_compare_by_content()
    {
        ValueList<string> tags = ["a", "b"];
        Assert.Equal(tags, ValueList.From<string>(["a", "b"]));
        Assert.NotEqual(tags, ["b", "a"]);
        Assert.Equal(tags.GetHashCode(), ValueList.From<string>(["a", "b"]).GetHashCode());
        Assert.Equal("[a, b, c]", tags.Add("c").ToString());

        ValueList<JsonObject> json = [new JsonObject { ["Kind"] = "mesh", ["n"] = 1 }];
        Assert.Equal(json, [new JsonObject { ["n"] = 1, ["Kind"] = "mesh" }]);
        Assert.NotEqual(json, [new JsonObject { ["Kind"] = "mesh", ["n"] = 2 }]);

        var meta = ValueDictionary.From([new KeyValuePair<string, string>("v", "1"), new("w", "2")]);
        var same = ValueDictionary.From([new KeyValuePair<string, string>("w", "2"), new("v", "1")]);
        Assert.Equal(meta, same);
        Assert.Equal(meta.GetHashCode(), same.GetHashCode());
        Assert.Equal(["v", "w"], meta.Keys);
        Assert.NotEqual(meta, ValueDictionary.Empty<string>());
    }
}
