using Google.Protobuf;

namespace Cluster.Raft.Server;

/// <summary>
/// What Raft replicates into. Called on the driver's loop, one call at a time, in log order;
/// must be deterministic (same commands, same state on every server).
/// </summary>
public interface IStateMachine
{
    /// <summary>Applies a committed command; the result goes back to whoever proposed it.</summary>
    object? Apply(ulong index, ByteString command);

    /// <summary>Writes the whole state (as of the last applied command) for a snapshot.</summary>
    void WriteSnapshot(Stream destination);

    /// <summary>Replaces the whole state with a snapshot's.</summary>
    void Restore(ReadOnlySpan<byte> snapshot);
}
