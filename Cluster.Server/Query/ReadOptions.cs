using Cluster.Contracts.State;
using Cluster.Server.Nodes;

namespace Cluster.Server.Query;

/// <summary>How a read may be answered: the caller's index to block past, how long to hold it, and its consistency.</summary>
public sealed record ReadOptions(ulong MinIndex = 0, TimeSpan Wait = default, Consistency Consistency = Consistency.Default)
{
    public static ReadOptions Now { get; } = new();

    /// <summary>Whether the read should be held until its index passes <see cref="MinIndex"/>.</summary>
    public bool Blocks => MinIndex > 0 && Wait > TimeSpan.Zero;

    public QueryOptions ToProto() => new()
    {
        MinIndex = MinIndex,
        WaitMs = (long)Wait.TotalMilliseconds,
        Consistency = Consistency switch
        {
            Consistency.Stale => ReadConsistency.Stale,
            Consistency.Consistent => ReadConsistency.Consistent,
            _ => ReadConsistency.Default,
        },
    };

    public static ReadOptions FromProto(QueryOptions? options) => options is null
        ? Now
        : new(options.MinIndex, TimeSpan.FromMilliseconds(Math.Max(0, options.WaitMs)), options.Consistency switch
        {
            ReadConsistency.Stale => Consistency.Stale,
            ReadConsistency.Consistent => Consistency.Consistent,
            _ => Consistency.Default,
        });
}

/// <summary>A read's answer with Consul's query meta: the index it is current as of, and what the answering server knew of the leader.</summary>
public sealed record QueryResult<T>(ulong Index, T Result, bool KnownLeader, TimeSpan LastContact);
