using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Core;

/// <summary>
/// ReadIndex: the leader notes its commit index for a read, then confirms it still leads by a
/// heartbeat round that a quorum answers; only then is the read index released. A leader that
/// has not yet committed an entry of its own term does not know the latest commit, so reads
/// wait for that first commit.
/// </summary>
public sealed partial class RaftNode
{
    private void StartRead(ulong requester, ByteString context)
    {
        var read = new PendingRead(requester, context) { Index = _log.Committed };
        _pendingReads.Add(read);
        if (_log.TermAt(_log.Committed) != Term)
        {
            read.WaitingForCommit = true;
            return;
        }

        BroadcastReadHeartbeat(read);
    }

    private void StartWaitingReads()
    {
        foreach (var read in _pendingReads.Where(r => r.WaitingForCommit).ToList())
        {
            read.WaitingForCommit = false;
            read.Index = _log.Committed;
            BroadcastReadHeartbeat(read);
        }
    }

    private void BroadcastReadHeartbeat(PendingRead read)
    {
        read.Acks.Add(Id);
        if (read.Acks.Count >= Quorum)
        {
            ReleaseThrough(read);
            return;
        }

        foreach (var (peer, progress) in _progress)
        {
            SendHeartbeat(peer, progress, read.Context);
        }
    }

    private void ConfirmRead(ulong from, ByteString context)
    {
        var read = _pendingReads.Find(r => !r.WaitingForCommit && r.Context.Equals(context));
        if (read is not null && read.Acks.Add(from) && read.Acks.Count >= Quorum)
        {
            ReleaseThrough(read);
        }
    }

    /// <summary>A quorum confirmed leadership after every earlier read was asked, so those are released too, in order.</summary>
    private void ReleaseThrough(PendingRead confirmed)
    {
        var upTo = _pendingReads.IndexOf(confirmed);
        foreach (var read in _pendingReads.Take(upTo + 1).Where(r => !r.WaitingForCommit).ToList())
        {
            _pendingReads.Remove(read);
            if (read.Requester == Id)
            {
                _readStates.Add(new ReadState(read.Index, read.Context));
            }
            else
            {
                Send(new Message { Type = MessageType.ReadIndexResponse, To = read.Requester, Index = read.Index, Context = read.Context });
            }
        }
    }

    private sealed class PendingRead(ulong requester, ByteString context)
    {
        public ulong Requester { get; } = requester;

        public ByteString Context { get; } = context;

        public ulong Index { get; set; }

        public bool WaitingForCommit { get; set; }

        public HashSet<ulong> Acks { get; } = [];
    }
}
