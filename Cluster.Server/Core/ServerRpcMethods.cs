using Cluster.Grpc;
using Cluster.Server.Wire;

namespace Cluster.Server.Core;

/// <summary>Server-to-server RPC on the server port (beside Raft's own stream): forwarded writes, bootstrap status, and what client agents ask of servers.</summary>
public static class ServerRpcMethods
{
    private const string Service = "cluster.server.v1.ServerRpc";

    public static readonly Method<ApplyRequest, ApplyReply> Apply = Method.FromDescriptor<ApplyRequest, ApplyReply>(StateReflection.Descriptor, Service, "Apply");

    public static readonly Method<StatusRequest, StatusReply> Status = Method.FromDescriptor<StatusRequest, StatusReply>(StateReflection.Descriptor, Service, "Status");

    public static readonly Method<HttpForward, HttpForwardReply> Http = Method.FromDescriptor<HttpForward, HttpForwardReply>(StateReflection.Descriptor, Service, "Http");

    public static readonly Method<NodeStateRequest, NodeStateReply> NodeState = Method.FromDescriptor<NodeStateRequest, NodeStateReply>(StateReflection.Descriptor, Service, "NodeState");

    public static readonly Method<ServiceInstancesRequest, ServiceInstancesReply> ServiceInstances = Method.FromDescriptor<ServiceInstancesRequest, ServiceInstancesReply>(StateReflection.Descriptor, Service, "ServiceInstances");

    public static readonly Method<RenewRequest, RenewReply> Renew = Method.FromDescriptor<RenewRequest, RenewReply>(StateReflection.Descriptor, Service, "Renew");
}
