using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>
/// Broadcasts waiting to piggyback on packets. Each goes out a limited number of times that
/// grows with log(N) (enough for epidemic spread with high probability), least-sent first; a
/// newer broadcast about a member replaces any older one about it.
/// </summary>
internal sealed class BroadcastQueue
{
    private readonly List<Item> _items = [];

    public int Count => _items.Count;

    public void Add(string key, Broadcast broadcast)
    {
        _items.RemoveAll(i => i.Key == key);
        _items.Add(new Item(key, broadcast));
    }

    public Broadcast? Find(string key) => _items.Find(i => i.Key == key)?.Broadcast;

    /// <summary>Broadcasts that fit in <paramref name="budget"/> bytes, each counted as sent once more.</summary>
    public List<Broadcast> Take(int budget, int limit, string? first = null)
    {
        var taken = new List<Broadcast>();
        var ordered = _items.OrderBy(i => i.Key == first ? -1 : i.Transmits).ToList();
        foreach (var item in ordered)
        {
            var size = item.Broadcast.CalculateSize() + 4;
            if (size > budget)
            {
                continue;
            }

            budget -= size;
            taken.Add(item.Broadcast);
            if (++item.Transmits >= limit)
            {
                _items.Remove(item);
            }
        }

        return taken;
    }

    private sealed class Item(string key, Broadcast broadcast)
    {
        public string Key { get; } = key;

        public Broadcast Broadcast { get; } = broadcast;

        public int Transmits { get; set; }
    }
}
