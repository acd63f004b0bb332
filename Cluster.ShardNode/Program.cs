using Cluster.Testing.Sharded;

// cluster-shard-node --name NAME --system SYSTEM [--join HOST:PORT]
// A LAN gossip member with an Akka node formed from it and the echo entities' shard region
// (Cluster.Testing/Sharded/LabNode). Prints "listening <gossip port>"; stops at the end of stdin.
var name = Option("--name") ?? throw new ArgumentException("--name is required");
var system = Option("--system") ?? throw new ArgumentException("--system is required");
string[] join = Option("--join") is { } target ? [target] : [];
await using var node = await LabNode.StartAsync(name, join, TimeSpan.FromMinutes(10), system);
Console.WriteLine($"listening {node.Pool.Address[(node.Pool.Address.LastIndexOf(':') + 1)..]}");

// Nobody reads stdout after that line; Akka's log goes to stderr, which the test keeps reading
// (a full stdout pipe would block the logger and, behind it, the node).
Console.SetOut(Console.Error);
while (await Console.In.ReadLineAsync() is not null)
{
}

return 0;

string? Option(string option)
{
    var i = Array.IndexOf(args, option);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
