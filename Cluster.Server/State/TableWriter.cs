namespace Cluster.Server.State;

/// <summary>One table's pending writes inside a <see cref="StateWriter"/>: reads see them, events record them.</summary>
internal sealed class TableWriter<T>(RadixTree<T> from, string topic, List<StateEvent> events, ulong index)
{
    private RadixTree<T>.Writer? _writer;

    public bool Changed { get; private set; }

    public RadixTree<T> Current => _writer?.View ?? from;

    public bool TryGet(string key, out T value) => Current.TryGet(key, out value);

    public IReadOnlyList<KeyValuePair<string, T>> List(string prefix) => Current.PrefixWatch(prefix).Entries;

    public void Set(string key, T value, bool announce = true)
    {
        (_writer ??= from.Write()).Set(key, value);
        Changed = true;
        if (announce)
        {
            events.Add(new StateEvent(topic, key, index));
        }
    }

    public bool Delete(string key, bool announce = true)
    {
        if (!Current.TryGet(key, out _))
        {
            return false;
        }

        (_writer ??= from.Write()).Delete(key);
        Changed = true;
        if (announce)
        {
            events.Add(new StateEvent(topic, key, index));
        }

        return true;
    }

    /// <summary>The new tree; the watches of everything replaced fire now.</summary>
    public RadixTree<T> Commit() => _writer?.Commit() ?? from;
}
