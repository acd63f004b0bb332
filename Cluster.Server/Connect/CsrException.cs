namespace Cluster.Server.Connect;

/// <summary>A certificate signing request refused, with the reason the caller is told (HTTP 400).</summary>
public sealed class CsrException(string message) : Exception(message);

/// <summary>A CA configuration refused, with the reason the operator is told (HTTP 400).</summary>
public sealed class CaConfigException(string message) : Exception(message);
