using Cluster.Contracts.State;
using Cluster.Server.State;

namespace Cluster.Server.Query;

/// <summary>A read encoded for the wire: what a server runs for a <see cref="QueryRequest"/>.</summary>
public interface IWireQuery
{
    /// <summary>Reads <paramref name="state"/> and encodes the result (with its index and watches).</summary>
    Read<QueryReply> RunEncoded(StateVersion state);
}

/// <summary>
/// One typed read of the state: how a server answers it from a <see cref="StateVersion"/>, and how
/// it travels to a server and back (<see cref="QueryRequest"/> / <see cref="QueryReply"/>). The
/// HTTP API asks these of <see cref="Nodes.IServerConnection"/>, which a server answers from its
/// store and a client agent over gRPC, so both run the same handlers.
/// </summary>
public abstract record StateQuery<T> : IWireQuery
{
    public abstract Read<T> Run(StateVersion state);

    /// <summary>The request for a server (options are added by the caller).</summary>
    public abstract QueryRequest ToRequest();

    public abstract void Encode(T result, QueryReply reply);

    public abstract T Decode(QueryReply reply);

    public Read<QueryReply> RunEncoded(StateVersion state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var read = Run(state);
        var reply = new QueryReply { Index = read.Index };
        Encode(read.Result, reply);
        return new(read.Index, reply, read.Watches);
    }
}

/// <summary>The queries a server answers over RPC, by the request's case.</summary>
public static class StateQueries
{
    /// <summary>The query a request asks for, or null for an empty or unknown one.</summary>
    public static IWireQuery? FromRequest(QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.QueryCase switch
        {
            QueryRequest.QueryOneofCase.KvGet => new KvGetQuery(request.KvGet),
            QueryRequest.QueryOneofCase.KvList => new KvListQuery(request.KvList),
            QueryRequest.QueryOneofCase.NodeList => new NodeListQuery(),
            QueryRequest.QueryOneofCase.ServiceNames => new ServiceNamesQuery(),
            QueryRequest.QueryOneofCase.ServiceNodes => new ServiceNodesQuery(request.ServiceNodes.Name, [.. request.ServiceNodes.Tags]),
            QueryRequest.QueryOneofCase.HealthService => new HealthServiceQuery(request.HealthService.Name, [.. request.HealthService.Tags]),
            QueryRequest.QueryOneofCase.NodeServices => new NodeServicesQuery(request.NodeServices),
            QueryRequest.QueryOneofCase.NodeChecks => new NodeChecksQuery(request.NodeChecks),
            QueryRequest.QueryOneofCase.ServiceChecks => new ServiceChecksQuery(request.ServiceChecks),
            QueryRequest.QueryOneofCase.ChecksInState => new ChecksInStateQuery(request.ChecksInState),
            QueryRequest.QueryOneofCase.ConfigList => new ConfigListQuery(request.ConfigList),
            QueryRequest.QueryOneofCase.ConfigGet => new ConfigGetQuery(request.ConfigGet.Kind, request.ConfigGet.Name),
            QueryRequest.QueryOneofCase.SessionList => new SessionListQuery(),
            QueryRequest.QueryOneofCase.SessionGet => new SessionInfoQuery(request.SessionGet),
            QueryRequest.QueryOneofCase.NodeSessions => new NodeSessionsQuery(request.NodeSessions),
            QueryRequest.QueryOneofCase.Ca => new CaQuery(),
            _ => null,
        };
    }
}

public sealed record KvGetQuery(string Key) : StateQuery<KvEntry?>
{
    public override Read<KvEntry?> Run(StateVersion state) => state.KvGet(Key);

    public override QueryRequest ToRequest() => new() { KvGet = Key };

    public override void Encode(KvEntry? result, QueryReply reply)
    {
        if (result is not null)
        {
            reply.Found = true;
            reply.Kvs.Add(result);
        }
    }

    public override KvEntry? Decode(QueryReply reply) => reply.Found && reply.Kvs.Count == 1 ? reply.Kvs[0] : null;
}

/// <summary>Entries under a prefix (also what ?keys lists).</summary>
public sealed record KvListQuery(string Prefix) : StateQuery<IReadOnlyList<KvEntry>>
{
    public override Read<IReadOnlyList<KvEntry>> Run(StateVersion state) => state.KvList(Prefix);

    public override QueryRequest ToRequest() => new() { KvList = Prefix };

    public override void Encode(IReadOnlyList<KvEntry> result, QueryReply reply) => reply.Kvs.Add(result);

    public override IReadOnlyList<KvEntry> Decode(QueryReply reply) => [.. reply.Kvs];
}

public sealed record NodeListQuery : StateQuery<IReadOnlyList<Node>>
{
    public override Read<IReadOnlyList<Node>> Run(StateVersion state) => state.NodeList();

    public override QueryRequest ToRequest() => new() { NodeList = true };

    public override void Encode(IReadOnlyList<Node> result, QueryReply reply) => reply.Nodes.Add(result);

    public override IReadOnlyList<Node> Decode(QueryReply reply) => [.. reply.Nodes];
}

public sealed record ServiceNamesQuery : StateQuery<IReadOnlyDictionary<string, IReadOnlyList<string>>>
{
    public override Read<IReadOnlyDictionary<string, IReadOnlyList<string>>> Run(StateVersion state) => state.ServiceNames();

    public override QueryRequest ToRequest() => new() { ServiceNames = true };

    public override void Encode(IReadOnlyDictionary<string, IReadOnlyList<string>> result, QueryReply reply)
    {
        foreach (var (name, tags) in result)
        {
            reply.ServiceNames[name] = new TagList { Tags = { tags } };
        }
    }

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Decode(QueryReply reply) =>
        new SortedDictionary<string, IReadOnlyList<string>>(
            reply.ServiceNames.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)[.. p.Value.Tags], StringComparer.Ordinal),
            StringComparer.Ordinal);
}

/// <summary>The instances of a service with their nodes (catalog/service), optionally only those with every tag.</summary>
public sealed record ServiceNodesQuery(string Name, IReadOnlyList<string> Tags) : StateQuery<IReadOnlyList<(Node Node, Service Service)>>
{
    public override Read<IReadOnlyList<(Node Node, Service Service)>> Run(StateVersion state) => state.ServiceNodes(Name, [.. Tags]);

    public override QueryRequest ToRequest() => new() { ServiceNodes = new ServiceFilter { Name = Name, Tags = { Tags } } };

    public override void Encode(IReadOnlyList<(Node Node, Service Service)> result, QueryReply reply)
    {
        foreach (var (node, service) in result)
        {
            reply.Instances.Add(new CatalogInstance { Node = node, Service = service });
        }
    }

    public override IReadOnlyList<(Node Node, Service Service)> Decode(QueryReply reply) => [.. reply.Instances.Select(i => (i.Node, i.Service))];
}

/// <summary>Instances of a service with their node and the checks that decide their health (health/service).</summary>
public sealed record HealthServiceQuery(string Name, IReadOnlyList<string> Tags) : StateQuery<IReadOnlyList<ServiceInstance>>
{
    public override Read<IReadOnlyList<ServiceInstance>> Run(StateVersion state) => state.HealthService(Name, [.. Tags]);

    public override QueryRequest ToRequest() => new() { HealthService = new ServiceFilter { Name = Name, Tags = { Tags } } };

    public override void Encode(IReadOnlyList<ServiceInstance> result, QueryReply reply)
    {
        foreach (var instance in result)
        {
            reply.Instances.Add(new CatalogInstance { Node = instance.Node, Service = instance.Service, Checks = { instance.Checks } });
        }
    }

    public override IReadOnlyList<ServiceInstance> Decode(QueryReply reply) => [.. reply.Instances.Select(i => new ServiceInstance(i.Node, i.Service, [.. i.Checks]))];
}

/// <summary>A node and its services (catalog/node, catalog/node-services); null when the catalog has no such node.</summary>
public sealed record NodeServicesQuery(string Node) : StateQuery<(Node Node, IReadOnlyList<Service> Services)?>
{
    public override Read<(Node Node, IReadOnlyList<Service> Services)?> Run(StateVersion state) => state.NodeServices(Node);

    public override QueryRequest ToRequest() => new() { NodeServices = Node };

    public override void Encode((Node Node, IReadOnlyList<Service> Services)? result, QueryReply reply)
    {
        if (result is { } found)
        {
            reply.Found = true;
            reply.Nodes.Add(found.Node);
            reply.Services.Add(found.Services);
        }
    }

    public override (Node Node, IReadOnlyList<Service> Services)? Decode(QueryReply reply) =>
        reply.Found && reply.Nodes.Count == 1 ? (reply.Nodes[0], [.. reply.Services]) : null;
}

/// <summary>The checks of a list-of-checks read (health/node, health/checks, health/state).</summary>
public abstract record ChecksQuery : StateQuery<IReadOnlyList<Check>>
{
    public override void Encode(IReadOnlyList<Check> result, QueryReply reply) => reply.Checks.Add(result);

    public override IReadOnlyList<Check> Decode(QueryReply reply) => [.. reply.Checks];
}

public sealed record NodeChecksQuery(string Node) : ChecksQuery
{
    public override Read<IReadOnlyList<Check>> Run(StateVersion state) => state.NodeChecks(Node);

    public override QueryRequest ToRequest() => new() { NodeChecks = Node };
}

public sealed record ServiceChecksQuery(string Service) : ChecksQuery
{
    public override Read<IReadOnlyList<Check>> Run(StateVersion state) => state.ServiceChecks(Service);

    public override QueryRequest ToRequest() => new() { ServiceChecks = Service };
}

/// <summary>Checks in one state, or every check for "any".</summary>
public sealed record ChecksInStateQuery(string State) : ChecksQuery
{
    public override Read<IReadOnlyList<Check>> Run(StateVersion state) => state.ChecksInState(State);

    public override QueryRequest ToRequest() => new() { ChecksInState = State };
}

public sealed record ConfigListQuery(string Kind) : StateQuery<IReadOnlyList<ConfigEntry>>
{
    public override Read<IReadOnlyList<ConfigEntry>> Run(StateVersion state) => state.ConfigList(Kind);

    public override QueryRequest ToRequest() => new() { ConfigList = Kind };

    public override void Encode(IReadOnlyList<ConfigEntry> result, QueryReply reply) => reply.ConfigEntries.Add(result);

    public override IReadOnlyList<ConfigEntry> Decode(QueryReply reply) => [.. reply.ConfigEntries];
}

public sealed record ConfigGetQuery(string Kind, string Name) : StateQuery<ConfigEntry?>
{
    public override Read<ConfigEntry?> Run(StateVersion state) => state.ConfigGet(Kind, Name);

    public override QueryRequest ToRequest() => new() { ConfigGet = new ConfigKey { Kind = Kind, Name = Name } };

    public override void Encode(ConfigEntry? result, QueryReply reply)
    {
        if (result is not null)
        {
            reply.Found = true;
            reply.ConfigEntries.Add(result);
        }
    }

    public override ConfigEntry? Decode(QueryReply reply) => reply.Found && reply.ConfigEntries.Count == 1 ? reply.ConfigEntries[0] : null;
}

/// <summary>The sessions of a list-of-sessions read (session/list, session/node).</summary>
public abstract record SessionsQuery : StateQuery<IReadOnlyList<Session>>
{
    public override void Encode(IReadOnlyList<Session> result, QueryReply reply) => reply.Sessions.Add(result);

    public override IReadOnlyList<Session> Decode(QueryReply reply) => [.. reply.Sessions];
}

public sealed record SessionListQuery : SessionsQuery
{
    public override Read<IReadOnlyList<Session>> Run(StateVersion state) => state.SessionList();

    public override QueryRequest ToRequest() => new() { SessionList = true };
}

public sealed record NodeSessionsQuery(string Node) : SessionsQuery
{
    public override Read<IReadOnlyList<Session>> Run(StateVersion state) => state.NodeSessions(Node);

    public override QueryRequest ToRequest() => new() { NodeSessions = Node };
}

/// <summary>One session as a list of none or one (session/info).</summary>
public sealed record SessionInfoQuery(string Id) : SessionsQuery
{
    public override Read<IReadOnlyList<Session>> Run(StateVersion state)
    {
        var read = state.SessionGet(Id);
        return new(read.Index, read.Result is null ? [] : [read.Result], read.Watches);
    }

    public override QueryRequest ToRequest() => new() { SessionGet = Id };
}

/// <summary>The Connect CA as agents and the HTTP API see it: config, trust domain and roots, never a signing key.</summary>
public sealed record CaQuery : StateQuery<CaState?>
{
    public override Read<CaState?> Run(StateVersion state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var read = state.CaGet();
        return new(read.Index, read.Result is { } ca ? Public(ca) : null, read.Watches);
    }

    public override QueryRequest ToRequest() => new() { Ca = true };

    public override void Encode(CaState? result, QueryReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (result is not null)
        {
            reply.Found = true;
            reply.Ca = Public(result);
        }
    }

    public override CaState? Decode(QueryReply reply) => reply is { Found: true, Ca: { } ca } ? ca : null;

    /// <summary>A copy without the roots' signing keys.</summary>
    public static CaState Public(CaState ca)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var copy = ca.Clone();
        foreach (var root in copy.Roots)
        {
            root.SigningKey = "";
        }

        return copy;
    }
}
