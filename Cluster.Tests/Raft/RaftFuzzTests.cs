using Cluster.Raft.Wire;
using Cluster.Testing.Raft;
using Google.Protobuf;

namespace Cluster.Tests.Raft;

/// <summary>
/// Malformed messages into the core: corrupted in flight (entries out of order, duplicated or
/// missing, terms out of range, impossible senders and types) and garbage bytes. The core must
/// neither throw nor break any safety property. Raft trusts well-formed messages from members
/// (authenticating them is the transport's job), so the fuzzer breaks structure, not honesty.
/// </summary>
public sealed class RaftFuzzTests
{
    public static TheoryData<int> Batches()
    {
        var data = new TheoryData<int>();
        for (var batch = 0; batch < 10; batch++)
        {
            data.Add(batch);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Malformed_messages_never_break_safety(int batch)
    {
        for (var seed = batch * 20; seed < (batch + 1) * 20; seed++)
        {
            Run(seed);
        }
    }

    private static void Run(int seed)
    {
        var sim = new RaftSimulation(3, seed);
        var fuzz = new Random(seed);
        sim.Deliver = m =>
        {
            if (fuzz.NextDouble() < 0.1)
            {
                Corrupt(m, fuzz);
            }

            return true;
        };

        var proposed = 0;
        for (var step = 0; step < 300; step++)
        {
            if (sim.Leader is { } leader && fuzz.Next(3) == 0)
            {
                sim.Propose(leader.Id, $"c{proposed++}");
            }

            if (fuzz.Next(4) == 0)
            {
                sim.Inject(Garbage(fuzz));
            }

            if (fuzz.Next(50) == 0)
            {
                sim.Isolate(sim.Ids[fuzz.Next(3)]);
            }
            else if (fuzz.Next(20) == 0)
            {
                sim.Heal();
            }

            sim.Tick();
        }

        sim.Deliver = null;
        sim.Heal();
        var leaderAtEnd = sim.ElectLeader(maxTicks: 1000);
        sim.Tick(20);
        RaftChaos.Check(sim, leaderAtEnd, $"(fuzz seed {seed})");
        Assert.True(sim.Nodes.Values.Sum(n => n.RefusedMessages) > 0, "the fuzzer never produced a malformed append");
    }

    /// <summary>Breaks a message's structure so that no correct leader could have sent it.</summary>
    private static void Corrupt(Message m, Random fuzz)
    {
        switch (fuzz.Next(6))
        {
            case 0 when m.Entries.Count >= 2:
                (m.Entries[0], m.Entries[1]) = (m.Entries[1], m.Entries[0]);
                break;
            case 1 when m.Entries.Count >= 1:
                m.Entries.Add(m.Entries[0].Clone());
                break;
            case 2 when m.Entries.Count >= 1:
                m.Entries[^1] = new Entry(m.Entries[^1]) { Term = m.Term + 1 + (ulong)fuzz.Next(5) };
                break;
            case 3 when m.Type == MessageType.Append:
                m.LogTerm = m.Term + 1;
                break;
            case 4:
                m.From = 100 + (ulong)fuzz.Next(100);
                break;
            default:
                m.Type = (MessageType)(9 + fuzz.Next(100));
                break;
        }
    }

    /// <summary>Random bytes read as a message; addressed so that it comes from no member, or to no one here.</summary>
    private static Message Garbage(Random fuzz)
    {
        var bytes = new byte[fuzz.Next(1, 64)];
        fuzz.NextBytes(bytes);
        Message message;
        try
        {
            message = Message.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            message = new Message { Type = (MessageType)fuzz.Next(12), Term = (ulong)fuzz.Next(1000), Index = (ulong)fuzz.Next(1000) };
        }

        message.To = 1 + (ulong)fuzz.Next(3);
        message.From = fuzz.Next(2) == 0 ? 0 : 100 + (ulong)fuzz.Next(100);
        return message;
    }
}
