using Cluster.Raft.Server;
using Cluster.Server.State;
using Cluster.Contracts.State;
using Google.Protobuf;

namespace Cluster.Server.Nodes;

/// <summary>The FSM: decodes each committed entry as a <see cref="Command"/> and applies it to the store.</summary>
public sealed class ServerStateMachine(StateStore store) : IStateMachine
{
    public StateStore Store { get; } = store;

    public object? Apply(ulong index, ByteString command)
    {
        Command decoded;
        try
        {
            decoded = Command.Parser.ParseFrom(command);
        }
        catch (InvalidProtocolBufferException e)
        {
            // Every server decodes the same bytes the same way, so refusing is deterministic.
            Store.Skip(index);
            return new CommandResult { Refused = $"undecodable command: {e.Message}" };
        }

        return Store.Apply(index, decoded);
    }

    public void WriteSnapshot(Stream destination) => Store.WriteSnapshot(destination);

    public void Restore(ReadOnlySpan<byte> snapshot) => Store.Restore(snapshot);
}
