using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>
/// Remote messages per second between two nodes in one process over loopback: senders on one
/// node stream small messages to receivers on the other, with a bounded window of unacknowledged
/// messages (<see cref="StreamWindow"/>). Legacy: RemoteTransport (our gRPC layer, protobuf);
/// Akka.NET: Akka.Remote over DotNetty with our HOCON and MessagePack serializer.
/// </summary>
internal static class RemoteBenchmark
{
    private const long MessagesPerCell = 500_000;
    private const long WarmUpPerPair = 20_000;

    public static async Task RunAsync(int rounds)
    {
        Console.WriteLine($"## Remote: messages/s from one node to another over loopback, {MessagesPerCell:N0} small messages per cell (after a {WarmUpPerPair:N0}-message warm-up per pair); receiver acks every {StreamWindow.AckEvery:N0}, sender keeps at most {StreamWindow.InFlight:N0} unacknowledged");
        Console.WriteLine();
        Console.WriteLine("| sender/receiver pairs | legacy RemoteTransport (msg/s) | Akka.Remote (msg/s) | Akka / legacy |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var pairs in new[] { 1, 4 })
        {
            var legacy = new List<double>();
            var akka = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                legacy.Add(await LegacyStream.RunAsync(pairs, MessagesPerCell / pairs, WarmUpPerPair));
                akka.Add(await AkkaStream.RunAsync(pairs, MessagesPerCell / pairs, WarmUpPerPair));
            }

            var l = legacy.Order().ElementAt((rounds - 1) / 2);
            var a = akka.Order().ElementAt((rounds - 1) / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {pairs} | {l:N0} | {a:N0} | {a / l:F2}x |"));
        }

        Console.WriteLine();
    }
}
