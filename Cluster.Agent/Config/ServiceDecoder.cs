using System.Globalization;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// Service and check blocks to definitions, checked as Consul checks them when it registers
/// them, so a bad one is reported at its place in its file rather than when the agent starts.
/// </summary>
internal static class ServiceDecoder
{
    private static readonly string[] ServiceFields =
    [
        "id", "name", "tags", "address", "port", "meta", "enable_tag_override", "kind",
        "check", "checks", "weights", "connect", "proxy",
    ];

    private static readonly string[] CheckFields =
    [
        "id|check_id", "name", "notes", "service_id", "status", "http", "method", "body", "header", "tcp", "grpc",
        "grpc_use_tls", "ttl", "interval", "timeout", "deregister_critical_service_after", "args|script_args",
        "alias_node", "alias_service", "success_before_passing", "failures_before_critical",
        "failures_before_warning", "tls_skip_verify",
    ];

    /// <summary>The fields that each make a check of their kind (the alias pair aside).</summary>
    private static readonly string[] KindFields = ["args", "http", "tcp", "grpc", "ttl"];

    private static readonly string[] WeightFields = ["passing", "warning"];

    private static readonly string[] Kinds = ["connect-proxy", "mesh-gateway", "terminating-gateway", "ingress-gateway", "api-gateway"];

    private static readonly string[] Statuses = ["passing", "warning", "critical"];

    /// <summary>A service block. <paramref name="scriptChecks"/> collects where script checks were written.</summary>
    public static ServiceDefinition Service(ConfigDocument document, JsonObject block, List<Origin> scriptChecks)
    {
        var fields = FieldSet.Read(document, block, "service", ServiceFields);
        var name = fields.Text("name");
        if (string.IsNullOrEmpty(name))
        {
            throw fields.Has("name") ? fields.Error("name", "service.name cannot be empty") : document.Error(block, "a service needs a name");
        }

        var id = fields.Text("id");
        if (id is { Length: 0 })
        {
            throw fields.Error("id", "service.id cannot be empty (leave it out to use the name)");
        }

        var port = fields.Int("port") ?? 0;
        if (port is < 0 or > 65535)
        {
            throw fields.Error("port", $"service.port must be 0 to 65535, not {port}");
        }

        var kind = fields.Text("kind");
        if (kind is { Length: 0 })
        {
            kind = null;
        }

        if (kind is not null && !Kinds.Contains(kind))
        {
            throw fields.Error("kind", $"service.kind must be one of {string.Join(", ", Kinds)} (or left out), not \"{kind}\"");
        }

        var proxy = fields.Object("proxy");
        if (kind == "connect-proxy")
        {
            if (port == 0)
            {
                throw document.Error(block, "a connect-proxy service needs a port");
            }

            if (proxy is null || !HasText(proxy, "destination_service_name"))
            {
                throw fields.Has("proxy") ? fields.Error("proxy", "a connect-proxy's proxy block needs destination_service_name") : document.Error(block, "a connect-proxy service needs proxy { destination_service_name = \"...\" }");
            }
        }

        if (fields.Objects("check").Count > 1)
        {
            throw fields.Error("check", "a service has one check block: write several as checks = [ ... ]");
        }

        var serviceId = id ?? name;
        var checkBlocks = fields.Objects("check").Concat(fields.Objects("checks")).ToList();
        var checks = checkBlocks
            .Select((check, i) => ServiceCheck(document, check, serviceId, name, checkBlocks.Count == 1 ? $"service:{serviceId}" : $"service:{serviceId}:{(i + 1).ToString(CultureInfo.InvariantCulture)}", scriptChecks))
            .ToList();
        var hasSingle = fields.Has("check");

        return new ServiceDefinition
        {
            Id = id!, // null: the ID follows the name

            Name = name,
            Tags = fields.Texts("tags") ?? [],
            Address = fields.Text("address"),
            Port = port,
            Meta = fields.TextMap("meta") ?? ValueDictionary.Empty<string>(),
            EnableTagOverride = fields.Bool("enable_tag_override") ?? false,
            Kind = kind,
            Check = hasSingle ? checks[0] : null,
            Checks = ValueList.From(hasSingle ? checks.Skip(1) : checks),
            Weights = Weights(fields),
            Connect = fields.Object("connect")?.DeepClone().AsObject(),
            Proxy = proxy?.DeepClone().AsObject(),
        };
    }

    /// <summary>A top-level check block: it needs its own name; its ID defaults to the name.</summary>
    public static CheckDefinition Check(ConfigDocument document, JsonObject block, List<Origin> scriptChecks)
    {
        var fields = FieldSet.Read(document, block, "check", CheckFields);
        var name = fields.Text("name");
        if (string.IsNullOrEmpty(name))
        {
            throw fields.Has("name") ? fields.Error("name", "check.name cannot be empty") : document.Error(block, "a check needs a name");
        }

        return Check(fields, name, fields.Text("id"), fields.Text("service_id"), scriptChecks);
    }

    private static CheckDefinition ServiceCheck(ConfigDocument document, JsonObject block, string serviceId, string serviceName, string defaultId, List<Origin> scriptChecks)
    {
        var fields = FieldSet.Read(document, block, "service.check", CheckFields);
        var name = fields.Text("name");
        return Check(fields, string.IsNullOrEmpty(name) ? $"Service '{serviceName}' check" : name, fields.Text("id") ?? defaultId, serviceId, scriptChecks);
    }

    private static CheckDefinition Check(FieldSet fields, string name, string? id, string? serviceId, List<Origin> scriptChecks)
    {
        if (id is { Length: 0 })
        {
            throw fields.Error("id", $"{fields.Name("id")} cannot be empty (leave it out to use the name)");
        }

        var check = new CheckDefinition
        {
            Id = id!, // null: the ID follows the name

            Name = name,
            Notes = fields.Text("notes"),
            ServiceId = serviceId,
            Status = fields.Text("status") ?? "critical",
            Http = fields.Text("http"),
            Method = fields.Text("method"),
            Body = fields.Text("body"),
            Header = fields.TextListMap("header") ?? ValueDictionary.Empty<ValueList<string>>(),
            Tcp = fields.Text("tcp"),
            Grpc = fields.Text("grpc"),
            GrpcUseTls = fields.Bool("grpc_use_tls") ?? false,
            Ttl = fields.Duration("ttl"),
            Interval = fields.Duration("interval"),
            Timeout = fields.Duration("timeout"),
            DeregisterCriticalServiceAfter = fields.Duration("deregister_critical_service_after"),
            Args = fields.Texts("args") ?? [],
            AliasNode = fields.Text("alias_node"),
            AliasService = fields.Text("alias_service"),
            SuccessBeforePassing = fields.Int("success_before_passing") ?? 0,
            FailuresBeforeCritical = fields.Int("failures_before_critical") ?? 0,
            FailuresBeforeWarning = fields.Int("failures_before_warning"),
            TlsSkipVerify = fields.Bool("tls_skip_verify") ?? false,
        };
        Validate(fields, check);
        if (check.Kind == CheckKind.Script)
        {
            scriptChecks.Add(fields.OriginOf("args"));
        }

        return check;
    }

    /// <summary>One kind per check, with the timing that kind needs (Consul's CheckType.Validate).</summary>
    private static void Validate(FieldSet fields, CheckDefinition check)
    {
        var kinds = KindFields.Where(fields.Has).ToList();
        if (fields.Has("alias_node") || fields.Has("alias_service"))
        {
            kinds.Add(fields.Has("alias_service") ? "alias_service" : "alias_node");
        }

        if (kinds.Count == 0)
        {
            throw fields.BlockError("a check needs one of args (a script), http, tcp, grpc, ttl or alias_service");
        }

        if (kinds.Count > 1)
        {
            throw fields.Error(kinds[1], $"a check is of one kind: {kinds[0]} and {kinds[1]} are both set");
        }

        if (fields.Has("args") && (check.Args.Count == 0 || check.Args[0].Length == 0))
        {
            throw fields.Error("args", $"{fields.Name("args")} needs the command to run");
        }

        if ((check.Http ?? check.Tcp ?? check.Grpc) is { Length: 0 })
        {
            throw fields.Error(kinds[0], $"{fields.Name(kinds[0])} cannot be empty");
        }

        var kind = check.Kind;
        var interval = kind is CheckKind.Script or CheckKind.Http or CheckKind.Tcp or CheckKind.Grpc;
        if (interval && check.Interval is null)
        {
            throw fields.Error(kinds[0], $"a {kinds[0]} check needs an interval");
        }

        if (!interval && check.Interval is not null)
        {
            throw fields.Error("interval", $"{fields.Name("interval")} does not apply to a {kinds[0]} check");
        }

        Positive(fields, "interval", check.Interval);
        Positive(fields, "ttl", check.Ttl);
        Positive(fields, "timeout", check.Timeout);
        Positive(fields, "deregister_critical_service_after", check.DeregisterCriticalServiceAfter);
        if (!Statuses.Contains(check.Status))
        {
            throw fields.Error("status", $"{fields.Name("status")} must be passing, warning or critical, not \"{check.Status}\"");
        }

        NotNegative(fields, "success_before_passing", check.SuccessBeforePassing);
        NotNegative(fields, "failures_before_critical", check.FailuresBeforeCritical);
        NotNegative(fields, "failures_before_warning", check.FailuresBeforeWarning ?? 0);
    }

    private static ServiceWeights Weights(FieldSet service)
    {
        if (service.Block("weights", WeightFields) is not { } weights)
        {
            return new ServiceWeights();
        }

        var passing = weights.Int("passing") ?? 1;
        var warning = weights.Int("warning") ?? 1;
        if (passing < 1)
        {
            throw weights.Error("passing", $"service.weights.passing must be at least 1, not {passing}");
        }

        NotNegative(weights, "warning", warning);
        return new ServiceWeights(passing, warning);
    }

    private static void Positive(FieldSet fields, string field, TimeSpan? value)
    {
        if (value is { } duration && duration <= TimeSpan.Zero)
        {
            throw fields.Error(field, $"{fields.Name(field)} must be positive");
        }
    }

    private static void NotNegative(FieldSet fields, string field, int value)
    {
        if (value < 0)
        {
            throw fields.Error(field, $"{fields.Name(field)} cannot be negative, not {value}");
        }
    }

    /// <summary>A non-empty string under <paramref name="key"/> in any of Consul's spellings.</summary>
    internal static bool HasText(JsonObject block, string key) =>
        block.Any(p => FieldSet.Canonical(p.Key) == FieldSet.Canonical(key) && p.Value is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0);
}
