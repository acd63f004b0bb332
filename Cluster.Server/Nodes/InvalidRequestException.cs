namespace Cluster.Server.Nodes;

/// <summary>A request a server refuses as malformed or naming what does not exist: HTTP 400, gRPC INVALID_ARGUMENT.</summary>
public sealed class InvalidRequestException(string message) : Exception(message);
