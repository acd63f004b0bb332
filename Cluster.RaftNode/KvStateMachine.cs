using Cluster.Raft.Server;
using Cluster.Testing.Raft.Wire;
using Google.Protobuf;

namespace Cluster.RaftNode;

/// <summary>The replicated map: commands are <see cref="PutRequest"/>s.</summary>
internal sealed class KvStateMachine : IStateMachine
{
    private readonly Dictionary<string, ByteString> _entries = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public (bool Found, ByteString Value) Get(string key)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(key, out var value) ? (true, value) : (false, ByteString.Empty);
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public object? Apply(ulong index, ByteString command)
    {
        var put = PutRequest.Parser.ParseFrom(command);
        lock (_gate)
        {
            _entries[put.Key] = put.Value;
        }

        return null;
    }

    public void WriteSnapshot(Stream destination)
    {
        var snapshot = new KvSnapshot();
        lock (_gate)
        {
            snapshot.Entries.Add(_entries);
        }

        snapshot.WriteTo(destination);
    }

    public void Restore(ReadOnlySpan<byte> snapshot)
    {
        var restored = KvSnapshot.Parser.ParseFrom(snapshot);
        lock (_gate)
        {
            _entries.Clear();
            foreach (var (key, value) in restored.Entries)
            {
                _entries[key] = value;
            }
        }
    }
}
