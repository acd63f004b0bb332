using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>A service the agent registers from its configuration (a <c>service</c> block).</summary>
public sealed record ServiceDefinition
{
    private readonly JsonContent? _connect;
    private readonly JsonContent? _proxy;

    /// <summary>The instance's ID; the name when none was given.</summary>
    public string Id
    {
        get => field ?? Name;
        init;
    }

    public required string Name { get; init; }

    public ValueList<string> Tags { get; init; } = [];

    /// <summary>The address to reach this instance at; null is the node's address.</summary>
    public string? Address { get; init; }

    public int Port { get; init; }

    public ValueDictionary<string> Meta { get; init; } = ValueDictionary.Empty<string>();

    public bool EnableTagOverride { get; init; }

    /// <summary>null for a typical service, else "connect-proxy", "mesh-gateway", "terminating-gateway", "ingress-gateway" or "api-gateway".</summary>
    public string? Kind { get; init; }

    /// <summary>The single <c>check</c> block.</summary>
    public CheckDefinition? Check { get; init; }

    /// <summary>The <c>checks</c> list.</summary>
    public ValueList<CheckDefinition> Checks { get; init; } = [];

    public ServiceWeights Weights { get; init; } = new();

    /// <summary>The <c>connect</c> block as written (sidecar_service, native), for the agent to act on. Read only.</summary>
    public JsonObject? Connect
    {
        get => _connect?.Json;
        init => _connect = JsonContent.Of(value);
    }

    /// <summary>The <c>proxy</c> block of a connect-proxy as written. Read only.</summary>
    public JsonObject? Proxy
    {
        get => _proxy?.Json;
        init => _proxy = JsonContent.Of(value);
    }

    /// <summary><see cref="Check"/> then <see cref="Checks"/>: every check the service registers.</summary>
    public IEnumerable<CheckDefinition> AllChecks => Check is null ? Checks : Checks.Prepend(Check);
}
