using Cluster.Gossip.Wire;
using Google.Protobuf;

namespace Cluster.Gossip.Core;

/// <summary>
/// User events (a payload spread to everyone, delivered once) and queries (the same, with each
/// member's answer sent straight back to the origin). Both carry a Lamport time and their
/// origin; a <see cref="ReplayWindow"/> keeps delivery exactly-once and refuses replays.
/// </summary>
public sealed partial class GossipNode
{
    /// <summary>Events and queries older than this many Lamport ticks are refused.</summary>
    public const ulong EventWindow = 1024;

    /// <summary>How long an origin collects answers: GossipInterval · 16 · ceil(log10(N + 1)) (Serf's default).</summary>
    public TimeSpan QueryTimeout => _options.GossipInterval * 16 * Math.Max(1, (int)Math.Ceiling(Math.Log10(_members.Count + 1)));

    /// <summary>Events and queries refused as older than the replay window.</summary>
    public long StaleEvents => _seen.TooOld;

    /// <summary>Spreads a small payload to every member (delivered once each, through <see cref="TakeUserEvents"/>).</summary>
    public void SendUserEvent(string name, ByteString payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var userEvent = new UserEvent { Name = name, Payload = payload ?? ByteString.Empty, Lamport = ++_lamport, Origin = Name };
        _seen.Admit(userEvent.Lamport, EventKey(userEvent), _lamport);
        _userEvents.Add(userEvent);
        Broadcast($"{EventKey(userEvent)}:{userEvent.Lamport}", new Broadcast { Event = userEvent });
    }

    /// <summary>
    /// Asks every member (this one included, through <see cref="TakeQueries"/>); answers arrive
    /// through <see cref="TakeAnswers"/> until <see cref="QueryTimeout"/>. Returns the query's Lamport time, its id.
    /// </summary>
    public ulong SendQuery(string name, ByteString payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var query = new Query { Name = name, Payload = payload ?? ByteString.Empty, Lamport = ++_lamport, Origin = Name, OriginAddress = _options.Address };
        _seen.Admit(query.Lamport, QueryKey(query), _lamport);
        _openQueries[query.Lamport] = new OpenQuery(_now + QueryTimeout);
        _queries.Add(query);
        Broadcast($"{QueryKey(query)}:{query.Lamport}", new Broadcast { Query = query });
        Gossip(force: false);
        return query.Lamport;
    }

    /// <summary>Answers a query taken from <see cref="TakeQueries"/>: straight to its origin, over TCP.</summary>
    public void Respond(Query query, ByteString payload)
    {
        ArgumentNullException.ThrowIfNull(query);
        var response = new QueryResponse { Lamport = query.Lamport, Payload = payload ?? ByteString.Empty };
        if (query.Origin == Name)
        {
            HandleQueryResponse(Name, response);
            return;
        }

        var packet = NewPacket();
        packet.QueryResponse = response;
        _outbox.Add(new SendReliable(query.OriginAddress, packet));
    }

    public List<UserEvent> TakeUserEvents()
    {
        var taken = _userEvents;
        _userEvents = [];
        return taken;
    }

    public List<Query> TakeQueries()
    {
        var taken = _queries;
        _queries = [];
        return taken;
    }

    public List<QueryAnswer> TakeAnswers()
    {
        var taken = _answers;
        _answers = [];
        return taken;
    }

    private static string EventKey(UserEvent userEvent) => $"event:{userEvent.Origin}:{userEvent.Name}";

    private static string QueryKey(Query query) => $"query:{query.Origin}:{query.Name}";

    private void HandleUserEvent(UserEvent userEvent)
    {
        _lamport = Math.Max(_lamport, userEvent.Lamport);
        if (_seen.Admit(userEvent.Lamport, EventKey(userEvent), _lamport))
        {
            _userEvents.Add(userEvent);
            Broadcast($"{EventKey(userEvent)}:{userEvent.Lamport}", new Broadcast { Event = userEvent });
        }
    }

    private void HandleQuery(Query query)
    {
        _lamport = Math.Max(_lamport, query.Lamport);
        if (_seen.Admit(query.Lamport, QueryKey(query), _lamport))
        {
            _queries.Add(query);
            Broadcast($"{QueryKey(query)}:{query.Lamport}", new Broadcast { Query = query });
        }
    }

    private void HandleQueryResponse(string from, QueryResponse response)
    {
        if (!_openQueries.TryGetValue(response.Lamport, out var open))
        {
            Refused++; // not ours, or too late
            return;
        }

        if (!open.Answered.Add(from))
        {
            return; // a duplicate or a replay
        }

        _answers.Add(new QueryAnswer(response.Lamport, from, response.Payload));
    }

    private void ExpireQueries()
    {
        foreach (var lamport in _openQueries.Where(q => _now >= q.Value.Deadline).Select(q => q.Key).ToList())
        {
            _openQueries.Remove(lamport);
        }
    }

    private sealed record OpenQuery(TimeSpan Deadline)
    {
        public HashSet<string> Answered { get; } = new(StringComparer.Ordinal);
    }
}
