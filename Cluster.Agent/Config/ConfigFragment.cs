namespace Cluster.Agent.Config;

/// <summary>
/// What one source (a file, or the command line) says, by Consul's setting name ("node_name",
/// "ports.http"), each value with its origin. Merging follows Consul: a later source's scalar
/// replaces an earlier one's; lists (services, checks, retry_join, ...) append.
/// </summary>
internal sealed class ConfigFragment
{
    private readonly Dictionary<string, Sourced> _scalars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Sourced>> _lists = new(StringComparer.Ordinal);

    public void Set(string name, object? value, Origin origin)
    {
        if (value is not null)
        {
            _scalars[name] = new Sourced(value, origin);
        }
    }

    public void Add(string name, object value, Origin origin)
    {
        if (!_lists.TryGetValue(name, out var list))
        {
            list = [];
            _lists[name] = list;
        }

        list.Add(new Sourced(value, origin));
    }

    /// <summary>Applies <paramref name="later"/> over this fragment.</summary>
    public void MergeFrom(ConfigFragment later)
    {
        foreach (var (name, value) in later._scalars)
        {
            _scalars[name] = value;
        }

        foreach (var (name, items) in later._lists)
        {
            foreach (var item in items)
            {
                Add(name, item.Value, item.Origin);
            }
        }
    }

    /// <summary>The value set for <paramref name="name"/>, or <paramref name="fallback"/> (whose origin is the default).</summary>
    public (T Value, Origin Origin) Get<T>(string name, T fallback) =>
        _scalars.TryGetValue(name, out var set) ? ((T)set.Value, set.Origin) : (fallback, Origin.Default);

    public Origin OriginOf(string name) => _scalars.TryGetValue(name, out var set) ? set.Origin : Origin.Default;

    public IEnumerable<(T Value, Origin Origin)> List<T>(string name) =>
        _lists.TryGetValue(name, out var items) ? items.Select(i => ((T)i.Value, i.Origin)) : [];

    private readonly record struct Sourced(object Value, Origin Origin);
}
