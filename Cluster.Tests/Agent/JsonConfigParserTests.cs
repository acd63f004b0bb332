using Cluster.Agent.Config;

namespace Cluster.Tests.Agent;

public sealed class JsonConfigParserTests
{
    [Fact]
    public void Reads_a_configuration_with_comments_and_trailing_commas_and_knows_where_each_value_was()
    {
        const string text = """
            {
              // as Consul accepts it
              "datacenter": "dc1",
              "services": [
                { "name": "web", "port": 8080, "tags": ["v1",], "weights": { "passing": 1.5 } },
              ],
              "server": true
            }
            """;
        var document = JsonConfigParser.Parse("agent.json", text);
        var web = document.Root["services"]![0]!;
        Assert.Equal("web", (string?)web["name"]);
        Assert.Equal(8080, (long)web["port"]!);
        Assert.Equal(1.5, (double)web["weights"]!["passing"]!);
        Assert.True((bool)document.Root["server"]!);
        Assert.Equal(new SourcePosition("agent.json", 5, 30), document.PositionOf(web["port"]!));
        Assert.Equal("agent.json:5:30: port must be positive", document.Error(web["port"]!, "port must be positive").Message);
    }

    [Fact]
    public void Knows_where_each_key_was_written()
    {
        var document = JsonConfigParser.Parse("k.json", "{\n  \"ports\": {\n    \"http\": 1 }\n}");
        var ports = document.Root["ports"]!.AsObject();
        Assert.Equal(new SourcePosition("k.json", 2, 3), document.KeyPositionOf(document.Root, "ports"));
        Assert.Equal(new SourcePosition("k.json", 3, 5), document.KeyPositionOf(ports, "http"));
        Assert.IsAssignableFrom<AgentConfigException>(document.KeyError(ports, "http", "no"));
    }

    [Theory]
    [InlineData("", 1, 1, "empty")]
    [InlineData("[1]", 1, 1, "must be an object")]
    [InlineData("{\"a\": 1,\n \"a\": 2}", 2, 2, "set twice")]
    [InlineData("{\"a\": 1}\n{}", 2, 1, "invalid after")]
    [InlineData("{\n  \"a\": tru\n}", 2, 0, "")]
    [InlineData("{\n  \"a\": \"unterminated\n}", 2, 0, "")]
    public void Bad_json_is_an_error_with_file_and_line(string text, int line, int column, string problem)
    {
        var error = Assert.Throws<ConfigException>(() => JsonConfigParser.Parse("bad.json", text));
        Assert.Equal(line, error.Line);
        if (column > 0)
        {
            Assert.Equal(column, error.Column);
        }

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"bad.json:{line}:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_text_gives_a_config_error_or_a_document_never_anything_else()
    {
        var random = new Random(6);
        const string alphabet = "{}[]\":,ab1.e-/* \ntrue";
        for (var i = 0; i < 3000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            try
            {
                JsonConfigParser.Parse("fuzz.json", text);
            }
            catch (ConfigException)
            {
            }
        }
    }
}
