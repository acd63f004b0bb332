namespace Cluster.Agent.Config;

/// <summary>
/// A health check from a <c>check</c> block, at the top level or inside a service. Exactly one of
/// <see cref="Args"/>, <see cref="Http"/>, <see cref="Tcp"/>, <see cref="Grpc"/>, <see cref="Ttl"/>
/// or the alias fields is set (<see cref="Kind"/> says which).
/// </summary>
public sealed record CheckDefinition
{
    /// <summary>The check's ID; the name when none was given (service checks get "service:&lt;id&gt;").</summary>
    public string Id
    {
        get => field ?? Name;
        init;
    }

    public required string Name { get; init; }

    public string? Notes { get; init; }

    /// <summary>The service this check belongs to, if any.</summary>
    public string? ServiceId { get; init; }

    /// <summary>The status before the first run: passing, warning or critical.</summary>
    public string Status { get; init; } = "critical";

    public string? Http { get; init; }

    /// <summary>HTTP method; null is GET.</summary>
    public string? Method { get; init; }

    /// <summary>The HTTP request body; null sends none.</summary>
    public string? Body { get; init; }

    public ValueDictionary<ValueList<string>> Header { get; init; } = ValueDictionary.Empty<ValueList<string>>();

    /// <summary>"host:port" to connect to.</summary>
    public string? Tcp { get; init; }

    /// <summary>"host:port" or "host:port/service" for the gRPC health protocol.</summary>
    public string? Grpc { get; init; }

    public bool GrpcUseTls { get; init; }

    public TimeSpan? Ttl { get; init; }

    public TimeSpan? Interval { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>Remove the service when this check has been critical this long.</summary>
    public TimeSpan? DeregisterCriticalServiceAfter { get; init; }

    /// <summary>The script's command and arguments.</summary>
    public ValueList<string> Args { get; init; } = [];

    public string? AliasNode { get; init; }

    public string? AliasService { get; init; }

    public int SuccessBeforePassing { get; init; }

    public int FailuresBeforeCritical { get; init; }

    /// <summary>Consecutive failures before the check turns warning; null is <see cref="FailuresBeforeCritical"/>.</summary>
    public int? FailuresBeforeWarning { get; init; }

    public bool TlsSkipVerify { get; init; }

    public CheckKind Kind =>
        Args.Count > 0 ? CheckKind.Script
        : Http is not null ? CheckKind.Http
        : Tcp is not null ? CheckKind.Tcp
        : Grpc is not null ? CheckKind.Grpc
        : AliasNode is not null || AliasService is not null ? CheckKind.Alias
        : CheckKind.Ttl;
}
