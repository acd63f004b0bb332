namespace Cluster.Agent.Config;

/// <summary>What a check runs, from which of its fields is set.</summary>
public enum CheckKind
{
    /// <summary>Set from outside through the TTL endpoints.</summary>
    Ttl,

    /// <summary>Runs <see cref="CheckDefinition.Args"/>; needs <c>enable_script_checks</c>.</summary>
    Script,
    Http,
    Tcp,
    Grpc,

    /// <summary>Mirrors another node's or service's health.</summary>
    Alias,
}
