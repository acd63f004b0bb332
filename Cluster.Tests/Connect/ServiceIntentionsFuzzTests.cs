using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Agent.Http;
using Cluster.Server.Nodes;

namespace Cluster.Tests.Connect;

/// <summary>
/// Seeded fuzzing of the service-intentions parser and validator: valid entries mutated at random
/// (bytes, and values swapped, dropped or renamed in the tree). Every mutant is either refused
/// with a 400 or accepted, and an accepted one is stored in a form that is accepted again
/// unchanged and that the agent's cache reads back. Never any other exception.
/// </summary>
public sealed class ServiceIntentionsFuzzTests
{
    private static readonly string[] Templates =
    [
        """{"Kind": "service-intentions", "Name": "db", "Meta": {"team": "core"}, "Sources": [{"Name": "web", "Action": "allow", "Description": "d"}, {"Name": "*", "Action": "deny"}, {"Name": "*", "Namespace": "*", "Action": "deny"}]}""",
        """{"Kind": "service-intentions", "Name": "api", "Namespace": "team", "Sources": [{"Name": "web", "Peer": "east", "Action": "allow"}, {"Name": "ops", "Namespace": "default", "Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/v1/", "Methods": ["GET", "put"], "Header": [{"Name": "x-a", "Exact": "1"}, {"Name": "x-b", "Present": true, "Invert": true}]}}, {"Action": "deny", "HTTP": {"PathRegex": "/admin/.*"}}]}]}""",
        """{"kind": "service-intentions", "name": "*", "sources": [{"name": "web", "action": "deny", "legacy_id": "x", "precedence": 3, "type": "consul"}]}""",
    ];

    private static readonly JsonNode?[] Tokens =
    [
        null, true, false, 0, -1, 1e300, 0.5, "", "*", "web", "/", "/x", "allow", "deny", "GET", "get", "FETCH", "consul", "team/*", "\u0000", "\ud7ff",
        "(a)\\1", "[z-a]", "^(a+)+$", new string('x', 600), new JsonObject(), new JsonArray(), new JsonArray("GET", "GET"), new JsonObject { ["Name"] = "h" },
        new JsonArray(new JsonObject { ["Name"] = "web", ["Action"] = "allow" }),
    ];

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Mutants_are_refused_with_a_400_or_stored_in_a_form_that_reads_back(int seed)
    {
        var random = new Random(seed);
        var accepted = 0;
        for (var round = 0; round < 1500; round++)
        {
            var template = Templates[random.Next(Templates.Length)];
            var mutant = random.Next(3) == 0 ? MutateBytes(random, Encoding.UTF8.GetBytes(template)) : Encoding.UTF8.GetBytes(MutateTree(random, template));
            if (ReadAsApiRequestDoes(mutant) is not { } body)
            {
                continue;
            }

            Cluster.Contracts.State.ConfigEntry stored;
            try
            {
                stored = ConfigEntries.Validate(body);
            }
            catch (ApiException e) when (e.Status == 400)
            {
                continue;
            }
            catch (InvalidRequestException)
            {
                continue;
            }

            accepted++;
            var again = ConfigEntries.Validate(JsonNode.Parse(stored.Json)!.AsObject());
            Assert.Equal(stored.Json, again.Json);
            Assert.Equal(stored.Name, again.Name);
            if (stored.Kind == ServiceIntentions.Kind)
            {
                var entry = IntentionSet.Read(stored);
                Assert.NotEmpty(entry.Sources);
                _ = IntentionIndex.Build(entry.Sources.Select(s => new Cluster.Server.Connect.IntentionRule(s.Name, entry.Destination, s.RuleAction)), 1);
            }
        }

        // The mutations are mild enough that some survive: the accepted path is exercised too.
        Assert.True(accepted > 50, $"only {accepted} mutants were accepted");
    }

    /// <summary>One to three edits of the tree: a value replaced by a token, a key removed, a key renamed in another case or snake_case.</summary>
    private static string MutateTree(Random random, string template)
    {
        var root = JsonNode.Parse(template)!;
        for (var edits = random.Next(1, 4); edits > 0; edits--)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            var target = nodes[random.Next(nodes.Count)];
            switch (target)
            {
                case JsonObject obj when obj.Count > 0 && random.Next(3) == 0:
                    var key = obj.ElementAt(random.Next(obj.Count)).Key;
                    var value = obj[key];
                    obj.Remove(key);
                    if (random.Next(2) == 0)
                    {
                        obj[random.Next(2) == 0 ? key.ToUpperInvariant() : Snake(key)] = value;
                    }

                    break;
                case JsonObject obj when obj.Count > 0:
                    obj[obj.ElementAt(random.Next(obj.Count)).Key] = Tokens[random.Next(Tokens.Length)]?.DeepClone();
                    break;
                case JsonArray array when array.Count > 0:
                    array[random.Next(array.Count)] = Tokens[random.Next(Tokens.Length)]?.DeepClone();
                    break;
            }
        }

        return root.ToJsonString();
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        foreach (var child in node switch { JsonObject o => o.Select(p => p.Value), JsonArray a => a, _ => [] })
        {
            if (child is not null)
            {
                Collect(child, into);
            }
        }
    }

    private static string Snake(string key) => string.Concat(key.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static byte[] MutateBytes(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(3))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 6), bytes.Count - at));
                    break;
                default:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "\"*\"" : ","));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>The body as the HTTP API reads it (names case-insensitive, a repeated name keeps its last value); null where the API answers 400 before validation.</summary>
    private static JsonObject? ReadAsApiRequestDoes(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return ToNode(document.RootElement) as JsonObject;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static JsonNode? ToNode(JsonElement element)
    {
        var options = new JsonNodeOptions { PropertyNameCaseInsensitive = true };
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject(options);
                foreach (var property in element.EnumerateObject())
                {
                    obj[property.Name] = ToNode(property.Value);
                }

                return obj;
            case JsonValueKind.Array:
                return new JsonArray(options, [.. element.EnumerateArray().Select(ToNode)]);
            case JsonValueKind.String:
                return JsonValue.Create(element.GetString());
            case JsonValueKind.Null:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }
}
