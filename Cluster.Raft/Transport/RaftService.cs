using Cluster.Raft.Wire;
using Grpc.Core;
using RaftGrpc = Cluster.Raft.Wire.Raft;

namespace Cluster.Raft.Transport;

/// <summary>
/// The Raft gRPC service a host maps (Grpc.AspNetCore): it hands each call to the transport,
/// which may be created after the port is bound (a server learns the address it advertises
/// from the bound port). Calls before then are refused as UNAVAILABLE, and the peer retries.
/// </summary>
public sealed class RaftService(Func<RaftTransport?> resolve) : RaftGrpc.RaftBase
{
    public override Task<StreamClosed> Stream(IAsyncStreamReader<MessageBatch> requestStream, ServerCallContext context) =>
        Resolve().ReceiveStreamAsync(requestStream, context);

    public override Task InstallSnapshot(IAsyncStreamReader<SnapshotChunk> requestStream, IServerStreamWriter<SnapshotProgress> responseStream, ServerCallContext context) =>
        Resolve().ReceiveSnapshotAsync(requestStream, responseStream, context);

    private RaftTransport Resolve() => resolve() ?? throw new RpcException(new Status(StatusCode.Unavailable, "raft is not started yet"));
}
