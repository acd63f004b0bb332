using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>
/// Broadcasts waiting to piggyback on packets. Each goes out a limited number of times that
/// grows with log(N) (enough for epidemic spread with high probability), least-sent first; a
/// newer broadcast about a member replaces any older one about it.
/// </summary>
internal sealed class BroadcastQueue
{
    private readonly Dictionary<string, Item> _items = new(StringComparer.Ordinal);
    private long _added;

    public int Count => _items.Count;

    public void Add(string key, Broadcast broadcast) => _items[key] = new Item(key, broadcast, _added++);

    /// <summary>Broadcasts that fit in <paramref name="budget"/> bytes, each counted as sent once more; <paramref name="first"/>'s goes first.</summary>
    public List<Broadcast> Take(int budget, int limit, string? first = null)
    {
        var taken = new List<Broadcast>();
        if (_items.Count == 0)
        {
            return taken;
        }

        // Least-sent first, newest first among equals (fresh news spreads fastest).
        foreach (var item in _items.Values.OrderBy(i => i.Key == first ? -1 : i.Transmits).ThenByDescending(i => i.Order).ToList())
        {
            var size = item.Size + 4;
            if (size > budget)
            {
                if (budget < 16)
                {
                    break;
                }

                continue;
            }

            budget -= size;
            taken.Add(item.Broadcast);
            if (++item.Transmits >= limit)
            {
                _items.Remove(item.Key);
            }
        }

        return taken;
    }

    private sealed class Item(string key, Broadcast broadcast, long order)
    {
        public string Key { get; } = key;

        public Broadcast Broadcast { get; } = broadcast;

        public long Order { get; } = order;

        public int Size { get; } = broadcast.CalculateSize();

        public int Transmits { get; set; }
    }
}
