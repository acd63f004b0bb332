using System.Globalization;
using Legacy.Actors;
using Legacy.Actors.Membership;
using Legacy.Actors.Remoting;
using Legacy.Actors.Sharding;
using Cluster.Testing.Sharding;

// cluster-shard-node [--shards N] [--node-lost-after SECONDS]
var shards = int.Parse(Option("--shards") ?? "30", CultureInfo.InvariantCulture);
var nodeLostAfter = TimeSpan.FromSeconds(double.Parse(Option("--node-lost-after") ?? "10", CultureInfo.InvariantCulture));

var system = await RemoteTransport.StartAsync("mesh", new RemoteOptions
{
    Messages = [EntityCommand.Descriptor, EntityReply.Descriptor],
    NodeLostAfter = nodeLostAfter,
    HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Min(1000, nodeLostAfter.TotalMilliseconds / 5)),
});
var membership = new ClusterMembership(system);
ClusterSharding.Start(system, ShardNodeOptions.For(shards), membership);
Console.WriteLine($"listening {system.Address.Port}");

// Control: "members cluster://mesh@127.0.0.1:1 cluster://mesh@127.0.0.1:2 ..." sets the member list.
while (await Console.In.ReadLineAsync() is { } line)
{
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (words is ["members", .. var members])
    {
        membership.Set(members.Select(Address.Parse));
        Console.WriteLine($"members {membership.Members.Count}");
    }
}

await system.Terminate();
return 0;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
