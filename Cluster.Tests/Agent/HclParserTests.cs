using System.Text.Json.Nodes;
using Cluster.Agent.Config;

namespace Cluster.Tests.Agent;

public sealed class HclParserTests
{
    [Fact]
    public void Reads_the_service_and_config_entry_shapes_of_consuls_documentation()
    {
        const string text = """
            # a service with a sidecar
            datacenter = "dc1"
            ports { http = 8500, grpc = 8502 }
            retry_join = ["10.0.0.1", "10.0.0.2",]
            service {
              name = "web"
              port = 8080
              tags = ["v1"]
              meta = { version = "1.2" }
              connect { sidecar_service {} }
              check {
                http     = "http://localhost:8080/health"
                interval = "10s" // a duration is a string
              }
            }
            service {
              name = "db"
              port = 5432
            }
            /* a config entry, as `cluster config write` takes it */
            Kind = "proxy-defaults"
            Config {
              protocol = "http"
              ratio = 0.5
              enabled = true
            }
            """;
        var document = HclParser.Parse("web.hcl", text);
        var root = document.Root;

        Assert.Equal("dc1", (string?)root["datacenter"]);
        Assert.Equal(8502, (long)root["ports"]!["grpc"]!);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], root["retry_join"]!.AsArray().Select(n => (string)n!));
        var services = root["service"]!.AsArray();
        Assert.Equal(2, services.Count);
        Assert.Equal("web", (string?)services[0]!["name"]);
        Assert.Equal("10s", (string?)services[0]!["check"]!["interval"]);
        Assert.Equal("1.2", (string?)services[0]!["meta"]!["version"]);
        Assert.IsType<JsonObject>(services[0]!["connect"]!["sidecar_service"]);
        Assert.Equal(5432, (long)services[1]!["port"]!);
        Assert.Equal("proxy-defaults", (string?)root["Kind"]);
        Assert.Equal(0.5, (double)root["Config"]!["ratio"]!);
        Assert.True((bool)root["Config"]!["enabled"]!);

        // Every value knows where it was written.
        Assert.Equal(new SourcePosition("web.hcl", 18, 10), document.PositionOf(services[1]!["port"]!));
    }

    [Fact]
    public void Labelled_blocks_nest_and_strings_keep_their_escapes_and_heredocs()
    {
        var document = HclParser.Parse("x.hcl", "check \"mem\" \"fast\" {\n  args = [\"a\\tb\", \"\\u00e9\\\"\"]\n}\nscript = <<-EOT\n    echo hi\n      indented\n    EOT\n");
        var args = document.Root["check"]!["mem"]!["fast"]!["args"]!.AsArray();
        Assert.Equal("a\tb", (string?)args[0]);
        Assert.Equal("é\"", (string?)args[1]);
        Assert.Equal("echo hi\n  indented\n", (string?)document.Root["script"]);
    }

    [Fact]
    public void Knows_where_each_key_was_written_and_a_repeated_block_where_it_began()
    {
        var document = HclParser.Parse("k.hcl", "node_name = \"a\"\nservice { name = \"x\" }\n  service { name = \"y\" }\n");
        Assert.Equal(new SourcePosition("k.hcl", 1, 1), document.KeyPositionOf(document.Root, "node_name"));
        Assert.Equal(new SourcePosition("k.hcl", 2, 1), document.KeyPositionOf(document.Root, "service"));
        var second = document.Root["service"]![1]!.AsObject();
        Assert.Equal("k.hcl:3:13: no", document.KeyError(second, "name", "no").Message);
    }

    [Theory]
    [InlineData("name = \"web\nport = 1", 1, 8, "not closed")]
    [InlineData("service {\n  name = \"web\"\n", 3, 1, "ends inside a block")]
    [InlineData("port = 80 80", 1, 11, "expected a new line")]
    [InlineData("interval = 10s", 1, 12, "not a number")]
    [InlineData("name = web", 1, 8, "need double quotes")]
    [InlineData("tags = [\"a\" \"b\"]", 1, 13, "expected ',' or ']'")]
    [InlineData("= 1", 1, 1, "expected a key")]
    [InlineData("service \"x\"", 1, 12, "expected '=' or '{'")]
    [InlineData("a = \"\\q\"", 1, 8, "unknown escape")]
    [InlineData("a = 1\n/* never closed", 2, 1, "never closed")]
    [InlineData("a = <<EOF\nno end\n", 1, 5, "never closed")]
    [InlineData("a =", 1, 4, "ends where a value should be")]
    [InlineData("a = [1,", 1, 8, "ends inside a list")]
    public void Bad_input_is_an_error_with_file_line_and_column(string text, int line, int column, string problem)
    {
        var error = Assert.Throws<ConfigException>(() => HclParser.Parse("bad.hcl", text));
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"bad.hcl:{line}:{column}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_give_a_config_error_or_a_document_never_anything_else()
    {
        var random = new Random(5);
        const string alphabet = "ab = {}[]\",\n#/*<-0.9e\\u";
        for (var i = 0; i < 3000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            try
            {
                HclParser.Parse("fuzz.hcl", text);
            }
            catch (ConfigException)
            {
            }
        }
    }
}
