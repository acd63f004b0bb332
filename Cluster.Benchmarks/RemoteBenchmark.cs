using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>
/// Remote messages per second between two nodes in one process over loopback: senders on one
/// node stream small messages to receivers on the other, with a bounded window of unacknowledged
/// messages (<see cref="StreamWindow"/>), over Akka.Remote (DotNetty) with our HOCON and
/// MessagePack serializer (<see cref="AkkaStream"/>).
/// </summary>
internal static class RemoteBenchmark
{
    private const long MessagesPerCell = 500_000;
    private const long WarmUpPerPair = 20_000;

    public static async Task RunAsync(int rounds)
    {
        Console.WriteLine($"## Remote: messages/s from one node to another over loopback, {MessagesPerCell:N0} small messages per cell (after a {WarmUpPerPair:N0}-message warm-up per pair); receiver acks every {StreamWindow.AckEvery:N0}, sender keeps at most {StreamWindow.InFlight:N0} unacknowledged");
        Console.WriteLine();
        Console.WriteLine("| sender/receiver pairs | Akka.Remote (msg/s) |");
        Console.WriteLine("|---|---|");
        foreach (var pairs in new[] { 1, 4 })
        {
            var akka = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                akka.Add(await AkkaStream.RunAsync(pairs, MessagesPerCell / pairs, WarmUpPerPair));
            }

            var median = akka.Order().ElementAt((rounds - 1) / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {pairs} | {median:N0} |"));
        }

        Console.WriteLine();
    }
}
