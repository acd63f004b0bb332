using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Agent.Checks;

/// <summary>What every check on one agent shares. Immutable.</summary>
public sealed record CheckOptions
{
    /// <summary>Consul's <c>enable_script_checks</c>: without it a check with args is refused.</summary>
    public bool EnableScriptChecks { get; init; }

    /// <summary>Consul's <c>check_output_max_size</c>: bytes of output kept per run.</summary>
    public int OutputMaxSize { get; init; } = BoundedOutput.DefaultMaxSize;

    /// <summary>Consul's checks.MinInterval: shorter intervals are raised to this.</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan DefaultScriptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Schedules runs and timeouts; tests inject a manual clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Draws each check's first-run stagger; tests inject a seeded one. Used under a lock.</summary>
    public Random Random { get; init; } = new();

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
