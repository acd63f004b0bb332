using Cluster.Grpc;
using Cluster.Testing.Raft.Wire;

namespace Cluster.Testing.Raft;

/// <summary>The test node's client API methods (Cluster.RaftNode serves them).</summary>
public static class RaftKv
{
    private const string Service = "cluster.raft.kv.v1.Kv";

    public static readonly Method<PutRequest, PutReply> Put = Method.FromDescriptor<PutRequest, PutReply>(RaftKvReflection.Descriptor, Service, "Put");

    public static readonly Method<GetRequest, GetReply> Get = Method.FromDescriptor<GetRequest, GetReply>(RaftKvReflection.Descriptor, Service, "Get");

    public static readonly Method<KeysRequest, KeysReply> Keys = Method.FromDescriptor<KeysRequest, KeysReply>(RaftKvReflection.Descriptor, Service, "Keys");

    public static readonly Method<StatusRequest, StatusReply> Status = Method.FromDescriptor<StatusRequest, StatusReply>(RaftKvReflection.Descriptor, Service, "Status");
}
