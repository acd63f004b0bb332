using Cluster.Agent.Config;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Checks;

/// <summary>
/// Makes the monitor for a check definition; one per agent, owning what its checks share (the
/// HTTP connections, the stagger's random source). TTL checks have no monitor: their status
/// comes from outside and the agent's local state expires them.
/// </summary>
public sealed class CheckMonitorFactory : IDisposable
{
    private readonly CheckOptions _options;
    private readonly IAliasSource? _aliases;
    private readonly CheckHttpHandlers _http = new();
    private readonly ILogger _logger;

    public CheckMonitorFactory(CheckOptions options, IAliasSource? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.OutputMaxSize);
        _options = options;
        _aliases = aliases;
        _logger = options.LoggerFactory.CreateLogger("Cluster.Agent.Checks");
    }

    /// <summary>Whether a check of this kind runs in a monitor (all but TTL).</summary>
    public static bool IsMonitored(CheckKind kind) => kind != CheckKind.Ttl;

    /// <summary>
    /// A monitor for <paramref name="definition"/>, not yet started. Throws
    /// <see cref="InvalidCheckException"/> for a check that cannot run here: a script check
    /// while <c>enable_script_checks</c> is off, a TTL check, a bad address.
    /// </summary>
    public CheckMonitor Create(CheckDefinition definition, Action<CheckStatusUpdate> onUpdate)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(onUpdate);
        switch (definition.Kind)
        {
            case CheckKind.Ttl:
                throw new InvalidCheckException($"Check {definition.Id} is a TTL check: it has no monitor (its status comes from the TTL endpoints)");
            case CheckKind.Alias:
                var source = _aliases ?? throw new InvalidCheckException($"Check {definition.Id}: alias checks need an alias source on this agent");
                var target = new AliasTarget(definition.AliasNode, definition.AliasService);
                return new AliasCheckMonitor(definition.Id, definition.Status, target, source, _options.TimeProvider, onUpdate, _logger);
            default:
                var probe = CreateProbe(definition);
                try
                {
                    return Create(definition, probe, onUpdate);
                }
                catch
                {
                    probe.Dispose();
                    throw;
                }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>An interval monitor around any probe (tests use scripted ones).</summary>
    internal IntervalCheckMonitor Create(CheckDefinition definition, ICheckProbe probe, Action<CheckStatusUpdate> onUpdate)
    {
        var interval = definition.Interval ?? throw new InvalidCheckException($"Check {definition.Id}: a {definition.Kind} check needs an interval");
        if (interval < _options.MinInterval)
        {
            CheckLog.IntervalRaised(_logger, definition.Id, interval, _options.MinInterval);
            interval = _options.MinInterval;
        }

        var schedule = new CheckSchedule(interval, TimeoutOf(definition), Stagger(interval));
        return new IntervalCheckMonitor(definition, probe, schedule, _options.TimeProvider, onUpdate, _logger);
    }

    /// <summary>The probe alone, for one run (the monitor's or a test's).</summary>
    internal ICheckProbe CreateProbe(CheckDefinition definition) => CreateProbe(definition, TimeoutOf(definition));

    private TimeSpan TimeoutOf(CheckDefinition definition) =>
        definition.Timeout ?? (definition.Kind == CheckKind.Script ? _options.DefaultScriptTimeout : _options.DefaultTimeout);

    private ICheckProbe CreateProbe(CheckDefinition definition, TimeSpan timeout) => definition.Kind switch
    {
        CheckKind.Script when !_options.EnableScriptChecks => throw new InvalidCheckException(
            $"Check {definition.Id} runs a script, and script checks (args) are off on this agent: set enable_script_checks = true or -enable-script-checks to run them"),
        CheckKind.Script => new ScriptProbe(definition.Args, timeout, _options.OutputMaxSize),
        CheckKind.Http => new HttpProbe(definition, _http.Get(definition.TlsSkipVerify), timeout, _options.OutputMaxSize),
        CheckKind.Tcp => new TcpProbe(HostPort.Parse(definition.Tcp!, definition.Id, "tcp"), timeout),
        CheckKind.Grpc => new GrpcProbe(definition, _http.Handler(definition.TlsSkipVerify), timeout),
        _ => throw new InvalidCheckException($"Check {definition.Id}: {definition.Kind} checks have no probe"),
    };

    /// <summary>Consul's lib.RandomStagger: uniform in [0, interval).</summary>
    private TimeSpan Stagger(TimeSpan interval)
    {
        double fraction;
        lock (_options.Random)
        {
            fraction = _options.Random.NextDouble();
        }

        return TimeSpan.FromTicks((long)(interval.Ticks * fraction));
    }
}
