using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Core;

/// <summary>
/// Configuration rules (Raft thesis §4.1): one server changes at a time, and a server uses the
/// newest configuration in its log, committed or not. Applying a change is a pure function of
/// the entry, so every node that holds the same log computes the same configuration — even for
/// an entry whose data is damaged (it changes nothing everywhere).
/// </summary>
public static class Membership
{
    public static ConfState Voters(IEnumerable<ulong> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        var conf = new ConfState();
        conf.Voters.AddRange(voters.Distinct().Order());
        return conf;
    }

    /// <summary>
    /// The log every founding server of a new cluster starts with: entry 1 of term 1 holding the
    /// first configuration, already committed (every founding voter has it).
    /// </summary>
    public static (HardState HardState, Entry[] Entries) Bootstrap(ConfState conf)
    {
        ArgumentNullException.ThrowIfNull(conf);
        if (conf.Voters.Count == 0 || conf.Voters.Contains(0UL))
        {
            throw new ArgumentException("a new cluster needs at least one voter, and ids are not 0", nameof(conf));
        }

        return (new HardState { Term = 1, Commit = 1 }, [new Entry { Term = 1, Index = 1, Type = EntryType.ConfState, Data = conf.ToByteString() }]);
    }

    public static bool IsVoter(this ConfState conf, ulong id) => conf.Voters.Contains(id);

    public static bool IsMember(this ConfState conf, ulong id) => conf.Voters.Contains(id) || conf.NonVoters.Contains(id);

    /// <summary>The configuration after <paramref name="change"/>; invalid changes leave it as it is.</summary>
    public static ConfState Apply(ConfState conf, ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(conf);
        ArgumentNullException.ThrowIfNull(change);
        if (Validate(conf, change) is not null)
        {
            return conf;
        }

        var next = conf.Clone();
        next.Voters.Remove(change.Node);
        next.NonVoters.Remove(change.Node);
        switch (change.Type)
        {
            case ConfChangeType.AddVoter:
                next.Voters.Add(change.Node);
                break;
            case ConfChangeType.AddNonVoter:
                next.NonVoters.Add(change.Node);
                break;
            case ConfChangeType.RemoveServer:
                next.Addresses.Remove(change.Node);
                return Sorted(next);
        }

        if (change.Address.Length > 0)
        {
            next.Addresses[change.Node] = change.Address;
        }

        return Sorted(next);
    }

    /// <summary>Why <paramref name="change"/> cannot apply to <paramref name="conf"/>, or null if it can.</summary>
    public static string? Validate(ConfState conf, ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(conf);
        ArgumentNullException.ThrowIfNull(change);
        if (change.Node == 0)
        {
            return "server id 0 is not valid";
        }

        return change.Type switch
        {
            ConfChangeType.AddVoter when conf.IsVoter(change.Node) => $"server {change.Node} is already a voter",
            ConfChangeType.AddNonVoter when conf.IsVoter(change.Node) => $"server {change.Node} is a voter; remove it first to demote it",
            ConfChangeType.AddNonVoter when conf.NonVoters.Contains(change.Node) => $"server {change.Node} is already a non-voter",
            ConfChangeType.RemoveServer when !conf.IsMember(change.Node) => $"server {change.Node} is not in the configuration",
            ConfChangeType.RemoveServer when conf.Voters.Count == 1 && conf.IsVoter(change.Node) => "cannot remove the last voter",
            ConfChangeType.AddVoter or ConfChangeType.AddNonVoter or ConfChangeType.RemoveServer => null,
            _ => $"unknown change type {change.Type}",
        };
    }

    /// <summary>The configuration after a log entry (unchanged for normal entries and unreadable changes).</summary>
    internal static ConfState After(ConfState conf, Entry entry)
    {
        try
        {
            return entry.Type switch
            {
                EntryType.ConfChange => Apply(conf, ConfChange.Parser.ParseFrom(entry.Data)),
                EntryType.ConfState => Sorted(ConfState.Parser.ParseFrom(entry.Data)),
                _ => conf,
            };
        }
        catch (InvalidProtocolBufferException)
        {
            return conf;
        }
    }

    private static ConfState Sorted(ConfState conf)
    {
        var voters = conf.Voters.Order().ToList();
        var nonVoters = conf.NonVoters.Order().ToList();
        conf.Voters.Clear();
        conf.Voters.AddRange(voters);
        conf.NonVoters.Clear();
        conf.NonVoters.AddRange(nonVoters);
        return conf;
    }
}
