using System.Globalization;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Formation;

/// <summary>
/// How a gossip member advertises its actor endpoint: the tag "actors" holds "host:port" of its
/// Akka remoting. Members without it (a process that runs no actors) take no part in the Akka cluster.
/// </summary>
public static class ActorTags
{
    public const string Key = "actors";

    public static string Value(AkkaAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return string.Create(CultureInfo.InvariantCulture, $"{address.Host}:{address.Port}");
    }

    /// <summary>The Akka address a member's tags advertise, or null when it has none or it does not parse.</summary>
    public static AkkaAddress? Parse(IReadOnlyDictionary<string, string> tags, string systemName)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (!tags.TryGetValue(Key, out var value))
        {
            return null;
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return null;
        }

        return new AkkaAddress("akka.tcp", systemName, value[..colon], port);
    }
}
