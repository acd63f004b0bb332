using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Grpc.Core;

namespace Cluster.Server.Rpc;

/// <summary>The server-to-server and agent-to-server RPCs (state.proto's ServerRpc), answered by the node that hosts them.</summary>
internal sealed class ServerRpcService(ServerNode node) : ServerRpc.ServerRpcBase
{
    public override Task<ApplyReply> Apply(ApplyRequest request, ServerCallContext context) => node.ServeApplyAsync(request, context);

    public override Task<StatusReply> Status(StatusRequest request, ServerCallContext context) => node.ServeStatusAsync();

    public override Task<RenewReply> Renew(RenewRequest request, ServerCallContext context) => node.ServeRenewAsync(request, context);

    public override Task<NodeStateReply> NodeState(NodeStateRequest request, ServerCallContext context) => node.ServeNodeStateAsync(request, context);

    public override Task<LeaderReply> Leader(LeaderRequest request, ServerCallContext context) => node.ServeLeaderAsync(context);

    public override Task<RaftConfigurationReply> RaftConfiguration(RaftConfigurationRequest request, ServerCallContext context) => node.ServeRaftConfigurationAsync(request, context);

    public override Task<PeerReply> RemovePeer(PeerRequest request, ServerCallContext context) => node.ServeRemovePeerAsync(request, context);

    public override Task<PeerReply> TransferLeader(PeerRequest request, ServerCallContext context) => node.ServeTransferLeaderAsync(request, context);

    public override Task<QueryReply> Query(QueryRequest request, ServerCallContext context) => node.ServeQueryAsync(request, context);

    public override Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeEvent> responseStream, ServerCallContext context) =>
        node.ServeSubscribeAsync(request, responseStream, context);

    public override Task<SignReply> Sign(SignRequest request, ServerCallContext context) => node.ServeSignAsync(request, context);

    public override Task<CaConfigureReply> ConfigureCa(CaConfigureRequest request, ServerCallContext context) => node.ServeConfigureCaAsync(request, context);
}
