namespace Cluster.Server.Connect;

/// <summary>A certificate signing request refused, with the reason the caller is told (HTTP 400).</summary>
public sealed class CsrException(string message) : Exception(message);
