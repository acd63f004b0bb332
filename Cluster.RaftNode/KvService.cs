using Cluster.Raft.Server;
using Cluster.Testing.Raft.Wire;
using Google.Protobuf;
using Grpc.Core;

namespace Cluster.RaftNode;

/// <summary>The client API over gRPC. A server that does not lead answers FAILED_PRECONDITION with "leader=ADDRESS".</summary>
internal sealed class KvService(KvStateMachine stateMachine, Task<RaftServer> raft) : Kv.KvBase
{
    public override async Task<PutReply> Put(PutRequest request, ServerCallContext context)
    {
        var server = await Started(context);
        try
        {
            var (index, _) = await server.ProposeAsync(request.ToByteString(), context.CancellationToken);
            return new PutReply { Index = index };
        }
        catch (NotLeaderException notLeader)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"leader={notLeader.LeaderAddress}"));
        }
    }

    public override async Task<GetReply> Get(GetRequest request, ServerCallContext context)
    {
        var server = await Started(context);
        try
        {
            var index = await server.ReadBarrierAsync(request.Mode == Cluster.Testing.Raft.Wire.ReadMode.Lease ? Cluster.Raft.Core.ReadMode.Lease : Cluster.Raft.Core.ReadMode.Quorum, context.CancellationToken);
            var (found, value) = stateMachine.Get(request.Key);
            return new GetReply { Found = found, Value = value, Index = index };
        }
        catch (NotLeaderException notLeader)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"leader={notLeader.LeaderAddress}"));
        }
    }

    public override async Task<KeysReply> Keys(KeysRequest request, ServerCallContext context)
    {
        var server = await Started(context);
        return new KeysReply { Count = (ulong)stateMachine.Count, Applied = server.Stats?.Applied ?? 0 };
    }

    public override async Task<StatusReply> Status(StatusRequest request, ServerCallContext context)
    {
        var server = request.Wait ? await raft.WaitAsync(context.CancellationToken) : await Started(context);
        while (true)
        {
            var changed = server.Changed; // taken before looking: no change is missed
            var stats = await server.StatsNowAsync(context.CancellationToken);
            var reply = new StatusReply
            {
                Id = stats.Id,
                Role = stats.Role.ToString(),
                Term = stats.Term,
                Leader = stats.Leader,
                LeaderAddress = stats.LeaderAddress,
                Committed = stats.Committed,
                Applied = stats.Applied,
                Fsyncs = stats.Fsyncs,
                Proposals = stats.Proposals,
                SnapshotIndex = stats.SnapshotIndex,
                View = $"{stats.Role}/{stats.Term}/{stats.Leader}",
            };
            reply.Voters.AddRange(stats.Configuration.Voters);
            if (!request.Wait || reply.View != request.Seen)
            {
                return reply;
            }

            await changed.WaitAsync(context.CancellationToken);
        }
    }

    private Task<RaftServer> Started(ServerCallContext _) =>
        raft.IsCompleted ? raft : throw new RpcException(new Status(StatusCode.Unavailable, "raft is not started yet"));
}
