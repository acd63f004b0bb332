using Cluster.Grpc;
using Cluster.Grpc.Server;
using Cluster.Raft.Server;
using Cluster.Testing.Raft;
using Cluster.Testing.Raft.Wire;
using Google.Protobuf;

namespace Cluster.RaftNode;

/// <summary>The client API over gRPC. A server that does not lead answers FAILED_PRECONDITION with "leader=ADDRESS".</summary>
internal sealed class KvService(KvStateMachine stateMachine, Task<RaftServer> raft)
{
    public void Register(GrpcServiceRegistry registry) => registry
        .AddUnary(RaftKv.Put, PutAsync)
        .AddUnary(RaftKv.Get, GetAsync)
        .AddUnary(RaftKv.Keys, KeysAsync)
        .AddUnary(RaftKv.Status, StatusAsync);

    private async Task<PutReply> PutAsync(PutRequest request, ServerCallContext context)
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

    private async Task<GetReply> GetAsync(GetRequest request, ServerCallContext context)
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

    private async Task<KeysReply> KeysAsync(KeysRequest request, ServerCallContext context)
    {
        var server = await Started(context);
        return new KeysReply { Count = (ulong)stateMachine.Count, Applied = server.Stats?.Applied ?? 0 };
    }

    private async Task<StatusReply> StatusAsync(StatusRequest request, ServerCallContext context)
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
