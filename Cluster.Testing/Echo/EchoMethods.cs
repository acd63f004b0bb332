using Cluster.Grpc;

namespace Cluster.Testing.Echo;

/// <summary>The echo service's methods, declared once from its descriptor for client and server.</summary>
public static class EchoMethods
{
    public const string ServiceName = "cluster.testing.Echo";

    public static readonly Method<EchoRequest, EchoReply> Unary = Declare<EchoRequest, EchoReply>("Unary");
    public static readonly Method<EchoRequest, EchoReply> ServerStream = Declare<EchoRequest, EchoReply>("ServerStream");
    public static readonly Method<EchoRequest, EchoReply> ClientStream = Declare<EchoRequest, EchoReply>("ClientStream");
    public static readonly Method<EchoRequest, EchoReply> Bidi = Declare<EchoRequest, EchoReply>("Bidi");
    public static readonly Method<StatsRequest, StatsReply> Stats = Declare<StatsRequest, StatsReply>("Stats");

    private static Method<TRequest, TResponse> Declare<TRequest, TResponse>(string name)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new() =>
        Method.FromDescriptor<TRequest, TResponse>(EchoReflection.Descriptor, ServiceName, name);
}
