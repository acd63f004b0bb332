using System.Text.Json.Nodes;
using static Cluster.Agent.Config.SettingNames;

namespace Cluster.Agent.Config;

/// <summary>One configuration file's settings, typed and checked field by field, as a fragment to merge.</summary>
internal static class FileDecoder
{
    private static readonly string[] TopLevelFields =
    [
        NodeName, NodeId, Datacenter, DataDir, SettingNames.Server, BootstrapExpect, Bootstrap, BindAddr, AdvertiseAddr, ClientAddr,
        "ports", RetryJoin, RetryJoinWan, RetryInterval, RetryIntervalWan, Encrypt, LogLevel, "ui", "ui_config",
        EnableScriptChecks, RaftFsync, "service", "services", "check", "checks", "config_entries",
    ];

    private static readonly string[] TextSettings = [NodeName, NodeId, Datacenter, DataDir, BindAddr, AdvertiseAddr, ClientAddr, Encrypt, LogLevel];

    private static readonly string[] BoolSettings = [SettingNames.Server, Bootstrap, EnableScriptChecks, RaftFsync];

    private static readonly string[] JoinSettings = [RetryJoin, RetryJoinWan];

    private static readonly string[] PortFields = ["http", "https", "grpc", "dns", "server", "serf_lan", "serf_wan", "actors"];

    private static readonly string[] UiFields = ["enabled"];

    private static readonly string[] ConfigEntriesFields = ["bootstrap"];

    public static ConfigFragment Decode(ConfigDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var top = FieldSet.Read(document, document.Root, "", TopLevelFields);
        var fragment = new ConfigFragment();

        foreach (var name in TextSettings)
        {
            fragment.Set(name, top.Text(name), top.OriginOf(name));
        }

        foreach (var name in BoolSettings)
        {
            fragment.Set(name, top.Bool(name), top.OriginOf(name));
        }

        fragment.Set(BootstrapExpect, top.Int(BootstrapExpect), top.OriginOf(BootstrapExpect));
        fragment.Set(RetryInterval, top.Duration(RetryInterval), top.OriginOf(RetryInterval));
        fragment.Set(RetryIntervalWan, top.Duration(RetryIntervalWan), top.OriginOf(RetryIntervalWan));
        foreach (var name in JoinSettings)
        {
            foreach (var (address, origin) in top.TextsWithOrigins(name) ?? [])
            {
                fragment.Add(name, address, origin);
            }
        }

        if (top.Block("ports", PortFields) is { } ports)
        {
            foreach (var port in PortFields)
            {
                fragment.Set($"ports.{port}", ports.Int(port), ports.OriginOf(port));
            }
        }

        // "ui = true" is the older spelling of ui_config { enabled = true }.
        fragment.Set(UiEnabled, top.Bool("ui"), top.OriginOf("ui"));
        if (top.Block("ui_config", UiFields) is { } ui)
        {
            fragment.Set(UiEnabled, ui.Bool("enabled"), ui.OriginOf("enabled"));
        }

        var scriptChecks = new List<Origin>();
        foreach (var block in top.Objects("service").Concat(top.Objects("services")))
        {
            fragment.Add(Services, ServiceDecoder.Service(document, block, scriptChecks), Origin.At(document.PositionOf(block)));
        }

        foreach (var block in top.Objects("check").Concat(top.Objects("checks")))
        {
            fragment.Add(SettingNames.Checks, ServiceDecoder.Check(document, block, scriptChecks), Origin.At(document.PositionOf(block)));
        }

        foreach (var origin in scriptChecks)
        {
            fragment.Add(ScriptChecks, origin, origin);
        }

        if (top.Block("config_entries", ConfigEntriesFields) is { } entries)
        {
            foreach (var entry in entries.Objects("bootstrap"))
            {
                fragment.Add(ConfigEntriesBootstrap, ConfigEntry(document, entry), Origin.At(document.PositionOf(entry)));
            }
        }

        return fragment;
    }

    /// <summary>A bootstrap config entry: kept as written for the server, which knows each kind's fields.</summary>
    private static JsonObject ConfigEntry(ConfigDocument document, JsonObject entry)
    {
        if (!ServiceDecoder.HasText(entry, "kind"))
        {
            throw document.Error(entry, "a config entry needs a Kind");
        }

        // The mesh entry is one per datacenter and has no name.
        var isMesh = entry.Any(p => FieldSet.Canonical(p.Key) == "KIND" && p.Value is JsonValue kind && kind.TryGetValue<string>(out var text) && text == "mesh");
        if (!isMesh && !ServiceDecoder.HasText(entry, "name"))
        {
            throw document.Error(entry, "a config entry needs a Name");
        }

        return entry.DeepClone().AsObject();
    }
}
