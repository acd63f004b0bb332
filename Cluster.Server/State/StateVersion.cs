using System.Collections.Immutable;
using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>
/// One committed version of the whole state: every table is an immutable radix tree, so a reader
/// holds a version for as long as it likes without locks while the FSM builds the next. Stored
/// entries are protobuf messages that are never mutated once a version holds them (writers
/// clone). Keys join parts with <see cref="Sep"/>; node and service names are indexed lower-case,
/// as Consul matches them case-insensitively.
/// </summary>
public sealed partial record StateVersion
{
    public const char Sep = '\0';

    public const string CaKey = "ca";

    /// <summary>The Raft index of the last command applied.</summary>
    public ulong Index { get; init; }

    /// <summary>The index of the change feed's last batch that this version includes (its events are published after it).</summary>
    public ulong FeedIndex { get; init; }

    public RadixTree<KvEntry> Kvs { get; init; } = new();

    /// <summary>Deleted keys and the index they were deleted at, so a prefix's index never goes backwards.</summary>
    public RadixTree<ulong> Tombstones { get; init; } = new();

    /// <summary>node (lower-case) → node.</summary>
    public RadixTree<Node> Nodes { get; init; } = new();

    /// <summary>node · service id → service.</summary>
    public RadixTree<Service> Services { get; init; } = new();

    /// <summary>service name (lower-case) · node · service id → service.</summary>
    public RadixTree<Service> ServicesByName { get; init; } = new();

    /// <summary>node · check id → check.</summary>
    public RadixTree<Check> Checks { get; init; } = new();

    /// <summary>service name (lower-case) · node · check id → service check.</summary>
    public RadixTree<Check> ChecksByService { get; init; } = new();

    /// <summary>session id → session.</summary>
    public RadixTree<Session> Sessions { get; init; } = new();

    /// <summary>node · session id → session.</summary>
    public RadixTree<Session> SessionsByNode { get; init; } = new();

    /// <summary>kind · name → config entry.</summary>
    public RadixTree<ConfigEntry> Config { get; init; } = new();

    /// <summary>The Connect CA (config, trust domain, roots with their signing keys) under the one key <see cref="CaKey"/>.</summary>
    public RadixTree<CaState> Ca { get; init; } = new();

    /// <summary>The index of the last write to each table (<see cref="Tables"/>).</summary>
    public ImmutableDictionary<string, ulong> TableIndexes { get; init; } = ImmutableDictionary<string, ulong>.Empty;

    /// <summary>
    /// Keys whose lock was released by an invalidated session, and until when (Unix ms) no one
    /// else may acquire them. Not snapshotted (Consul neither): it lasts seconds.
    /// </summary>
    public ImmutableDictionary<string, long> LockDelays { get; init; } = ImmutableDictionary<string, long>.Empty;

    public ulong TableIndex(string table) => TableIndexes.GetValueOrDefault(table);

    public ulong MaxIndex(params string[] tables)
    {
        ulong max = 0;
        foreach (var table in tables)
        {
            max = Math.Max(max, TableIndex(table));
        }

        return max;
    }

    public static string Key(string a, string b) => string.Concat(a, Sep.ToString(), b);

    public static string Key(string a, string b, string c) => string.Concat(a, Sep.ToString(), b, Sep.ToString(), c);

    public static string Lower(string name) => name.ToLowerInvariant();
}

/// <summary>Table names: the keys of <see cref="StateVersion.TableIndexes"/> and the topics of state events.</summary>
public static class Tables
{
    public const string Kvs = "kvs";
    public const string Tombstones = "tombstones";
    public const string Nodes = "nodes";
    public const string Services = "services";
    public const string Checks = "checks";
    public const string Sessions = "sessions";
    public const string Config = "config-entries";
    public const string Ca = "connect-ca";
}
