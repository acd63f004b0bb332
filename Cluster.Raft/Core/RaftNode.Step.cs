using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Core;

/// <summary>Message handling: the term rules first (§5.1), then what each role does.</summary>
public sealed partial class RaftNode
{
    /// <summary>Feeds one message from a peer. Malformed or stale messages are ignored, never trusted.</summary>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Any server may write to us (one just added may lead before we see the entry adding it);
        // votes count only from voters, and a leader only hears from members it tracks.
        if (message.From == 0 || message.From == Id || message.To != Id)
        {
            return;
        }

        if (message.Term > Term)
        {
            var isVote = message.Type is MessageType.Vote or MessageType.PreVote;
            // We heard from a leader recently, or we have only just started (a crash may have wiped
            // the memory of a leader whose lease our last answer extended): do not let a candidate
            // unseat it. Leases rest on this (see RaftNode.Reads).
            var holding = Leader != 0 || _now < _options.ElectionTicks;
            if (isVote && !message.Transfer && _options.CheckQuorum && holding && _electionElapsed < _options.ElectionTicks)
            {
                return;
            }

            if (message.Type == MessageType.PreVote || (message.Type == MessageType.PreVoteResponse && !message.Reject))
            {
                // Pre-votes are asked and granted at a future term without anyone moving to it.
            }
            else
            {
                var leader = message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot ? message.From : 0;
                BecomeFollower(message.Term, leader);
            }
        }
        else if (message.Term < Term)
        {
            if (message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                // A deposed leader: tell it our term so it steps down.
                Send(new Message { Type = MessageType.AppendResponse, To = message.From });
            }
            else if (message.Type is MessageType.PreVote or MessageType.Vote)
            {
                Send(new Message { Type = Response(message.Type), To = message.From, Reject = true });
            }

            return;
        }

        switch (message.Type)
        {
            case MessageType.PreVote or MessageType.Vote:
                HandleVoteRequest(message);
                break;
            case MessageType.PreVoteResponse or MessageType.VoteResponse:
                HandleVoteResponse(message);
                break;
            case MessageType.Append:
                FollowLeader(message.From);
                HandleAppend(message);
                break;
            case MessageType.Snapshot:
                FollowLeader(message.From);
                HandleSnapshot(message);
                break;
            case MessageType.Heartbeat:
                FollowLeader(message.From);
                _log.CommitTo(Math.Min(message.Commit, _log.LastIndex));
                Send(new Message { Type = MessageType.HeartbeatResponse, To = message.From, Context = message.Context, Index = message.Index });
                break;
            case MessageType.AppendResponse when Role == RaftRole.Leader:
                HandleAppendResponse(message);
                break;
            case MessageType.ReadIndex when Role == RaftRole.Leader:
                Read(message.From, message.Context, message.Index == LeaseRequested ? ReadMode.Lease : ReadMode.Quorum);
                break;
            case MessageType.ReadIndexResponse when message.From == Leader:
                _readStates.Add(new ReadState(message.Index, message.Context));
                break;
            case MessageType.TimeoutNow when Role != RaftRole.Leader && message.From == Leader && Conf.IsVoter(Id):
                Campaign(preVote: false, transfer: true); // asked by the leader: no pre-vote round, no lease
                break;
            case MessageType.HeartbeatResponse when Role == RaftRole.Leader && _progress.TryGetValue(message.From, out var progress):
                progress.RecentActive = true;
                if ((long)message.Index <= _now)
                {
                    progress.AckedTick = Math.Max(progress.AckedTick, (long)message.Index);
                }

                if (!message.Context.IsEmpty)
                {
                    ConfirmRead(message.From, message.Context);
                }

                if (!progress.Probing && progress.Inflight >= _options.MaxInflight)
                {
                    progress.Inflight--; // a full window that is not draining: assume one was lost and try again
                }

                if (progress.Match < _log.LastIndex && progress.PendingSnapshot == 0)
                {
                    SendAppend(message.From, progress);
                }

                break;
        }
    }

    private static MessageType Response(MessageType request) =>
        request == MessageType.PreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;

    private void FollowLeader(ulong leader)
    {
        if (Role != RaftRole.Follower || Leader != leader)
        {
            BecomeFollower(Term, leader);
        }

        _electionElapsed = 0;
    }

    private void HandleVoteRequest(Message message)
    {
        // §5.2 and §5.4.1: one vote per term, only for a log at least as up to date as ours.
        var canVote = message.Type == MessageType.PreVote
            ? message.Term > Term || Vote == 0 || Vote == message.From
            : Vote == message.From || (Vote == 0 && Leader == 0);
        var grant = canVote && _log.IsUpToDate(message.Index, message.LogTerm);
        if (grant && message.Type == MessageType.Vote)
        {
            Vote = message.From;
            _electionElapsed = 0;
        }

        Send(new Message
        {
            Type = Response(message.Type),
            To = message.From,
            Term = grant && message.Type == MessageType.PreVote ? message.Term : Term,
            Reject = !grant,
        });
    }

    private void HandleVoteResponse(Message message)
    {
        var expected = message.Type == MessageType.PreVoteResponse ? RaftRole.PreCandidate : RaftRole.Candidate;
        if (Role != expected)
        {
            return;
        }

        _votes.TryAdd(message.From, !message.Reject);
        TallyAndMaybeWin();
    }

    private void HandleAppend(Message message)
    {
        if (!WellFormed(message))
        {
            return;
        }

        if (message.Index < _log.Committed)
        {
            Send(new Message { Type = MessageType.AppendResponse, To = message.From, Index = _log.Committed });
            return;
        }

        switch (_log.TryAppend(message.Index, message.LogTerm, message.Commit, message.Entries, out var lastNew))
        {
            case AppendResult.Accepted:
                Send(new Message { Type = MessageType.AppendResponse, To = message.From, Index = lastNew });
                return;
            case AppendResult.Refused:
                RefusedMessages++;
                return;
        }

        Send(new Message
        {
            Type = MessageType.AppendResponse,
            To = message.From,
            Index = message.Index,
            Reject = true,
            RejectHint = Math.Min(message.Index, _log.LastIndex),
        });
    }

    /// <summary>
    /// A snapshot from the leader (its data already received by the transport): old news if we
    /// committed that far; just a commit if our log has its last entry; otherwise it replaces
    /// our log and state machine, and the driver installs it before sending our answer.
    /// </summary>
    private void HandleSnapshot(Message message)
    {
        var meta = message.Snapshot;
        if (meta is null || meta.Index == 0 || meta.Term == 0 || meta.Term > message.Term || meta.Conf is null)
        {
            RefusedMessages++;
            return;
        }

        if (meta.Index > _log.Committed)
        {
            if (_log.TermAt(meta.Index) == meta.Term)
            {
                _log.CommitTo(meta.Index);
            }
            else
            {
                _log.Restore(meta);
                _receivedSnapshot = meta;
            }
        }

        Send(new Message { Type = MessageType.AppendResponse, To = message.From, Index = _log.Committed });
    }

    /// <summary>An AppendEntries a real leader could have sent: contiguous entries after (LogTerm, Index), terms in order and not beyond the message's.</summary>
    private bool WellFormed(Message message)
    {
        if (message.LogTerm > message.Term)
        {
            RefusedMessages++;
            return false;
        }

        var previousTerm = message.LogTerm;
        for (var i = 0; i < message.Entries.Count; i++)
        {
            var entry = message.Entries[i];
            if (entry.Index != message.Index + 1 + (ulong)i || entry.Term < previousTerm || entry.Term > message.Term)
            {
                RefusedMessages++;
                return false;
            }

            previousTerm = entry.Term;
        }

        return true;
    }

    private void HandleAppendResponse(Message message)
    {
        if (!_progress.TryGetValue(message.From, out var progress))
        {
            return;
        }

        progress.RecentActive = true;
        if (message.Reject)
        {
            if (progress.PendingSnapshot != 0)
            {
                return; // an answer from before the snapshot
            }

            // Stale: an answer to an older probe, or below what the follower already matched.
            if (progress.Probing ? message.Index + 1 != progress.Next : message.Index <= progress.Match)
            {
                return;
            }

            progress.Next = progress.Probing
                ? Math.Max(progress.Match + 1, Math.Min(message.Index, message.RejectHint + 1))
                : progress.Match + 1;
            progress.Probing = true;
            progress.ProbeSent = false;
            progress.Inflight = 0;
            SendAppend(message.From, progress);
            return;
        }

        if (message.Index > _log.LastIndex)
        {
            return; // claims entries we never sent: ignore
        }

        if (message.Index > progress.Match)
        {
            progress.Match = message.Index;
        }

        if (progress.PendingSnapshot != 0)
        {
            if (progress.Match < progress.PendingSnapshot)
            {
                return; // the snapshot is still on its way
            }

            progress.PendingSnapshot = 0;
        }

        if (message.From == _transferee && progress.Match == _log.LastIndex)
        {
            SendTimeoutNow(message.From); // caught up: go
        }

        progress.Next = Math.Max(progress.Next, progress.Match + 1);
        if (progress.Probing)
        {
            progress.Probing = false;
            progress.ProbeSent = false;
            progress.Inflight = 0;
        }
        else if (progress.Inflight > 0)
        {
            progress.Inflight--;
        }

        if (MaybeCommit())
        {
            BroadcastAppend();
        }
        else if (progress.Next <= _log.LastIndex)
        {
            SendAppend(message.From, progress);
        }
    }

    /// <summary>
    /// Commits the highest index a quorum of voters holds, if it is of the current term (§5.4.2).
    /// A leader that is not in the newest configuration counts others only, and steps down once
    /// that configuration commits (thesis §4.2.2).
    /// </summary>
    private bool MaybeCommit()
    {
        var matches = Conf.Voters.Select(v => v == Id ? _log.Stable : _progress.TryGetValue(v, out var p) ? p.Match : 0).OrderDescending().ToList();
        if (matches.Count == 0)
        {
            return false;
        }

        var candidate = matches[Quorum - 1];
        if (candidate <= _log.Committed || _log.TermAt(candidate) != Term)
        {
            return false;
        }

        _log.CommitTo(candidate);
        if (!Conf.IsVoter(Id) && _log.ConfigIndex <= _log.Committed)
        {
            BroadcastAppend(); // let the others learn the commit before we go quiet
            BecomeFollower(Term, 0);
            return false;
        }

        StartWaitingReads();
        return true;
    }

    private void BroadcastAppend()
    {
        foreach (var (peer, progress) in _progress)
        {
            SendAppend(peer, progress);
        }
    }

    private void SendAppend(ulong peer, Progress progress)
    {
        if (progress.PendingSnapshot != 0 || (progress.Probing ? progress.ProbeSent : progress.Inflight >= _options.MaxInflight))
        {
            return; // wait for answers before sending more
        }

        var previous = progress.Next - 1;
        var previousTerm = _log.TermAt(previous);
        if (previousTerm is null)
        {
            // Compacted away: the follower gets the snapshot, and appends resume after it.
            var snapshot = _log.Snapshot;
            progress.PendingSnapshot = snapshot.Index;
            progress.Probing = true;
            progress.ProbeSent = true;
            Send(new Message { Type = MessageType.Snapshot, To = peer, Snapshot = snapshot });
            return;
        }

        var entries = _log.Slice(progress.Next, _options.MaxEntriesPerMessage);
        var message = new Message
        {
            Type = MessageType.Append,
            To = peer,
            Index = previous,
            LogTerm = previousTerm.Value,
            Commit = _log.Committed,
        };
        message.Entries.AddRange(entries);
        Send(message);
        if (progress.Probing)
        {
            progress.ProbeSent = true;
        }
        else
        {
            progress.Inflight++;
            if (entries.Count > 0)
            {
                progress.Next = entries[^1].Index + 1;
            }
        }
    }

    /// <summary>A heartbeat commits no further than what the follower is known to hold.</summary>
    /// <summary>The heartbeat carries the leader's tick, which the answer echoes: the read lease runs from the send.</summary>
    private void SendHeartbeat(ulong peer, Progress progress, ByteString context) =>
        Send(new Message { Type = MessageType.Heartbeat, To = peer, Commit = Math.Min(progress.Match, _log.Committed), Context = context, Index = (ulong)_now });

    /// <summary>After this the target may win an election that ignores the vote lease, so this leader's read lease ends.</summary>
    private void SendTimeoutNow(ulong target)
    {
        _leaseRevoked = true;
        Send(new Message { Type = MessageType.TimeoutNow, To = target });
    }

    private void BroadcastHeartbeat()
    {
        foreach (var (peer, progress) in _progress)
        {
            SendHeartbeat(peer, progress, ByteString.Empty);
            if (progress.Probing && progress.PendingSnapshot == 0)
            {
                progress.ProbeSent = false; // a lost probe is retried on the heartbeat
            }
        }
    }
}
