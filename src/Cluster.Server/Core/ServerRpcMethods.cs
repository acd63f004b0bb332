using Cluster.Grpc;
using Cluster.Server.Wire;

namespace Cluster.Server.Core;

/// <summary>Server-to-server RPC on the server port (beside Raft's own stream): forwarded writes and bootstrap status.</summary>
public static class ServerRpcMethods
{
    private const string Service = "cluster.server.v1.ServerRpc";

    public static readonly Method<ApplyRequest, ApplyReply> Apply = Method.FromDescriptor<ApplyRequest, ApplyReply>(StateReflection.Descriptor, Service, "Apply");

    public static readonly Method<StatusRequest, StatusReply> Status = Method.FromDescriptor<StatusRequest, StatusReply>(StateReflection.Descriptor, Service, "Status");

    public static readonly Method<RenewRequest, RenewReply> Renew = Method.FromDescriptor<RenewRequest, RenewReply>(StateReflection.Descriptor, Service, "Renew");
}
