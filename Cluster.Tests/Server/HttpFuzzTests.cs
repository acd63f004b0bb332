using System.Net;
using System.Text;

namespace Cluster.Tests.Server;

/// <summary>
/// Valid request bodies mutated at random (seeded): whatever a mutant decodes to, the answer is a
/// success or a 4xx, never a 500, and the server keeps answering. Its own agent, since a mutant
/// may well be a valid write.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HttpFuzzTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static readonly (string Path, string Body)[] Templates =
    [
        ("/v1/catalog/register", """{"Node": "fz-n", "Address": "10.9.0.1", "NodeMeta": {"k": "v"}, "TaggedAddresses": {"lan": "10.9.0.1"}, "Service": {"ID": "fz-s1", "Service": "fz-s", "Tags": ["a", "b"], "Port": 80, "Meta": {"m": "1"}, "Weights": {"Passing": 3, "Warning": 1}, "TaggedAddresses": {"lan": {"Address": "10.9.0.1", "Port": 80}}}, "Checks": [{"CheckID": "fz-c", "Name": "c", "ServiceID": "fz-s1", "Status": "passing", "Output": "ok"}]}"""),
        ("/v1/catalog/deregister", """{"Node": "fz-n", "ServiceID": "fz-s1", "CheckID": "fz-c"}"""),
        ("/v1/agent/service/register", """{"ID": "fz-a1", "Name": "fz-a", "Tags": ["x"], "Port": 8080, "Meta": {"v": "1"}, "EnableTagOverride": true, "Weights": {"Passing": 2, "Warning": 1}, "Checks": [{"CheckID": "fz-ttl", "TTL": "1h", "Status": "passing"}, {"HTTP": "http://127.0.0.1:1/", "Interval": "10s"}]}"""),
        ("/v1/agent/check/register", """{"ID": "fz-own", "Name": "own", "TTL": "1h", "Notes": "n", "Status": "warning"}"""),
        ("/v1/agent/check/update/fz-own", """{"Status": "passing", "Output": "fine"}"""),
        ("/v1/session/create", """{"Name": "fz", "Behavior": "release", "TTL": "1h", "LockDelay": "1s", "NodeChecks": ["serfHealth"], "ServiceChecks": [{"ID": "fz-ttl", "Namespace": ""}]}"""),
        ("/v1/config", """{"Kind": "service-defaults", "Name": "fz-d", "Protocol": "http", "MeshGateway": {"Mode": "local"}, "TransparentProxy": {"OutboundListenerPort": 15001}, "Meta": {"a": "b"}, "MaxInboundConnections": 10}"""),
        ("/v1/config", """{"kind": "proxy-defaults", "name": "global", "config": {"protocol": "http"}, "mesh_gateway": {"mode": "remote"}, "mode": "direct"}"""),
        ("/v1/txn", """[{"KV": {"Verb": "set", "Key": "fz/a", "Value": "aGk=", "Flags": 3}}, {"KV": {"Verb": "cas", "Key": "fz/b", "Index": 0, "Value": "eA=="}}, {"KV": {"Verb": "get-tree", "Key": "fz/"}}, {"KV": {"Verb": "check-not-exists", "Key": "fz/c"}}, {"KV": {"Verb": "delete-tree", "Key": "fz/zz"}}]"""),
    ];

    private static readonly HttpStatusCode[] Acceptable =
    [
        HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed,
        HttpStatusCode.Conflict, HttpStatusCode.RequestEntityTooLarge,
    ];

    [Fact]
    public async Task Mutated_valid_bodies_never_cause_a_500()
    {
        var random = new Random(5150);
        foreach (var (path, template) in Templates)
        {
            var original = Encoding.UTF8.GetBytes(template);
            var valid = await agent.PutAsync(path, original);
            Assert.True(valid.Status == HttpStatusCode.OK, $"the template for {path} is valid: {valid}");
            for (var round = 0; round < 60; round++)
            {
                var mutant = Mutate(random, original);
                var reply = await agent.PutAsync(path, mutant);
                Assert.True(Acceptable.Contains(reply.Status), $"PUT {path} {Encoding.UTF8.GetString(mutant)} -> {reply}");
            }

            Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/status/leader")).Status);
        }

        // Everything the mutants wrote reads back without a failure.
        foreach (var read in new[] { "/v1/catalog/nodes", "/v1/catalog/services", "/v1/health/state/any", "/v1/agent/services", "/v1/agent/checks", "/v1/session/list", "/v1/config/service-defaults", "/v1/config/proxy-defaults", "/v1/kv/?recurse" })
        {
            var reply = await agent.GetAsync(read);
            Assert.True(reply.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET {read} -> {reply}");
        }
    }

    /// <summary>One to three edits: flip a byte, delete a run, insert random bytes, duplicate a run, swap in a JSON token, or truncate.</summary>
    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        string[] tokens = ["null", "true", "-1", "1e999", "\"\"", "{}", "[]", "\"\\ud800\"", "18446744073709551616", "0.5", "\"x\"", ",", ":", "\"Kind\"", "\"\\u0000\""];
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at));
                    break;
                case 2:
                    var insert = new byte[random.Next(1, 4)];
                    random.NextBytes(insert);
                    bytes.InsertRange(at, insert);
                    break;
                case 3:
                    var length = Math.Min(random.Next(1, 16), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                case 4:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(tokens[random.Next(tokens.Length)]));
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }
}
