using System.Collections.Frozen;

namespace Cluster.Actors.Serialization;

/// <summary>
/// The message types that may cross nodes, each under a short, stable manifest. A manifest is
/// a contract between versions: never reuse one for a different type. Types are looked up here,
/// never by name through reflection, so bytes from a peer can only become a listed type.
/// </summary>
public sealed class MessageRegistry
{
    private readonly FrozenDictionary<string, Type> _byManifest;
    private readonly FrozenDictionary<Type, string> _byType;

    public MessageRegistry(IEnumerable<KeyValuePair<string, Type>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var byManifest = new Dictionary<string, Type>(StringComparer.Ordinal);
        var byType = new Dictionary<Type, string>();
        foreach (var (manifest, type) in entries)
        {
            if (string.IsNullOrEmpty(manifest))
            {
                throw new ArgumentException($"{type.Name}: a manifest must not be empty", nameof(entries));
            }

            if (!typeof(IWireMessage).IsAssignableFrom(type))
            {
                throw new ArgumentException($"{type.Name} does not implement {nameof(IWireMessage)}", nameof(entries));
            }

            if (!byManifest.TryAdd(manifest, type))
            {
                throw new ArgumentException($"manifest '{manifest}' is listed twice ({byManifest[manifest].Name}, {type.Name})", nameof(entries));
            }

            if (!byType.TryAdd(type, manifest))
            {
                throw new ArgumentException($"{type.Name} is listed twice ('{byType[type]}', '{manifest}')", nameof(entries));
            }
        }

        _byManifest = byManifest.ToFrozenDictionary(StringComparer.Ordinal);
        _byType = byType.ToFrozenDictionary();
    }

    public static MessageRegistry Empty { get; } = new([]);

    public IEnumerable<Type> Types => _byType.Keys;

    public bool TryGetType(string manifest, out Type type) => _byManifest.TryGetValue(manifest, out type!);

    public bool TryGetManifest(Type type, out string manifest) => _byType.TryGetValue(type, out manifest!);

    /// <summary>This registry and <paramref name="other"/>'s entries together (each module lists its own messages).</summary>
    public MessageRegistry With(MessageRegistry other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(_byManifest.Concat(other._byManifest));
    }
}
