using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Cluster.Grpc;

/// <summary>What the server registry needs to know about a method without its message types.</summary>
public interface IMethod
{
    string ServiceName { get; }

    string Name { get; }

    /// <summary>The HTTP/2 :path, "/package.Service/Method".</summary>
    string Path { get; }

    MethodType Type { get; }
}

/// <summary>
/// A gRPC method: the one declaration both the client and the server use. Declare it from the
/// .proto's service descriptor (shape and message types are checked against the file) or by
/// name and shape:
/// <code>
/// static readonly Method&lt;Ping, Pong&gt; PingMethod = Method.FromDescriptor&lt;Ping, Pong&gt;(EchoReflection.Descriptor, "pkg.Echo", "Ping");
/// static readonly Method&lt;Ping, Pong&gt; PingMethod = new("pkg.Echo", "Ping", MethodType.Unary);
/// </code>
/// </summary>
public sealed class Method<TRequest, TResponse> : IMethod
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public Method(string serviceName, string name, MethodType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (serviceName.Contains('/', StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Service '{serviceName}' and method '{name}' must not contain '/'.");
        }

        ServiceName = serviceName;
        Name = name;
        Type = type;
        Path = "/" + serviceName + "/" + name;
    }

    public string ServiceName { get; }

    public string Name { get; }

    public string Path { get; }

    public MethodType Type { get; }

    public MessageParser<TRequest> RequestParser { get; } = new(() => new TRequest());

    public MessageParser<TResponse> ResponseParser { get; } = new(() => new TResponse());

    public override string ToString() => Path;
}

/// <summary>Factory methods for <see cref="Method{TRequest,TResponse}"/>.</summary>
public static class Method
{
    /// <summary>
    /// Declares a method from the generated file descriptor. The shape comes from the .proto
    /// (stream keywords), and the message types are checked, so a declaration cannot drift from
    /// the contract.
    /// </summary>
    public static Method<TRequest, TResponse> FromDescriptor<TRequest, TResponse>(FileDescriptor file, string serviceFullName, string methodName)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(file);
        var service = file.Services.FirstOrDefault(s => s.FullName == serviceFullName)
            ?? throw new ArgumentException($"{file.Name} declares no service '{serviceFullName}'.", nameof(serviceFullName));
        var method = service.FindMethodByName(methodName)
            ?? throw new ArgumentException($"Service '{serviceFullName}' has no method '{methodName}'.", nameof(methodName));
        Check(method, "request", method.InputType, new TRequest().Descriptor);
        Check(method, "response", method.OutputType, new TResponse().Descriptor);
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        return new Method<TRequest, TResponse>(serviceFullName, methodName, type);
    }

    private static void Check(MethodDescriptor method, string role, MessageDescriptor declared, MessageDescriptor given)
    {
        if (declared.FullName != given.FullName)
        {
            throw new ArgumentException($"{method.FullName} takes {declared.FullName} as its {role}, not {given.FullName}.");
        }
    }
}
