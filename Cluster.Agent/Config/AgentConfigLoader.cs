using static Cluster.Agent.Config.SettingNames;

namespace Cluster.Agent.Config;

/// <summary>
/// Makes the agent's <see cref="AgentConfig"/> the way Consul does: the defaults (dev mode's with
/// -dev), then each configuration file in order (every -config-file, and the .hcl and .json files
/// of every -config-dir in name order), then the flags. A later source's value replaces an
/// earlier one's; services, checks, retry_join and bootstrap config entries add up.
/// </summary>
public static class AgentConfigLoader
{
    /// <summary>Flags, then the files they name, read from disk.</summary>
    public static AgentConfig Load(IReadOnlyList<string> args) => Load(AgentFlags.Parse(args));

    public static AgentConfig Load(AgentFlags flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        return Build(flags, ReadPaths(flags.ConfigPaths));
    }

    /// <summary>The configuration from already-parsed <paramref name="files"/> (in order) and <paramref name="flags"/>.</summary>
    public static AgentConfig Build(AgentFlags flags, IEnumerable<ConfigDocument> files)
    {
        ArgumentNullException.ThrowIfNull(flags);
        ArgumentNullException.ThrowIfNull(files);
        var merged = new ConfigFragment();
        foreach (var file in files)
        {
            merged.MergeFrom(FileDecoder.Decode(file));
        }

        merged.MergeFrom(FromFlags(flags));
        return ConfigBuilder.Build(merged, flags.Dev);
    }

    /// <summary>
    /// Each path's documents: a file as itself (it must end in .hcl or .json), a directory as its
    /// .hcl and .json files in ordinal name order, not descending into subdirectories.
    /// </summary>
    public static IReadOnlyList<ConfigDocument> ReadPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var documents = new List<ConfigDocument>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var files = Directory.EnumerateFiles(path)
                    .Where(f => IsConfigFile(f))
                    .Order(StringComparer.Ordinal);
                documents.AddRange(files.Select(ReadFile));
            }
            else
            {
                documents.Add(ReadFile(path));
            }
        }

        return documents;
    }

    public static ConfigDocument ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!IsConfigFile(path))
        {
            throw new AgentConfigException($"config file \"{path}\": the name must end in .hcl or .json, which says how to read it");
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new AgentConfigException($"cannot read config file \"{path}\": {exception.Message}");
        }

        return Parse(path, text);
    }

    /// <summary>A configuration file's text, read as HCL or JSON by its name's extension.</summary>
    public static ConfigDocument Parse(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? JsonConfigParser.Parse(file, text) : HclParser.Parse(file, text);
    }

    private static bool IsConfigFile(string path) =>
        path.EndsWith(".hcl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    private static ConfigFragment FromFlags(AgentFlags flags)
    {
        var fragment = new ConfigFragment();
        void Set(string name, object? value, string flag) => fragment.Set(name, value, Origin.OfFlag(flag));

        Set(NodeName, flags.NodeName, "node");
        Set(NodeId, flags.NodeId, "node-id");
        Set(Datacenter, flags.Datacenter, "datacenter");
        Set(DataDir, flags.DataDir, "data-dir");
        Set(SettingNames.Server, flags.Server, "server");
        Set(BootstrapExpect, flags.BootstrapExpect, "bootstrap-expect");
        Set(Bootstrap, flags.Bootstrap, "bootstrap");
        Set(BindAddr, flags.BindAddr, "bind");
        Set(AdvertiseAddr, flags.AdvertiseAddr, "advertise");
        Set(ClientAddr, flags.ClientAddr, "client");
        Set(HttpPort, flags.HttpPort, "http-port");
        Set(HttpsPort, flags.HttpsPort, "https-port");
        Set(GrpcPort, flags.GrpcPort, "grpc-port");
        Set(DnsPort, flags.DnsPort, "dns-port");
        Set(ServerPort, flags.ServerPort, "server-port");
        Set(SerfLanPort, flags.SerfLanPort, "serf-lan-port");
        Set(SerfWanPort, flags.SerfWanPort, "serf-wan-port");
        Set(ActorsPort, flags.ActorsPort, "actors-port");
        Set(RetryInterval, flags.RetryInterval, "retry-interval");
        Set(RetryIntervalWan, flags.RetryIntervalWan, "retry-interval-wan");
        Set(Encrypt, flags.Encrypt, "encrypt");
        Set(LogLevel, flags.LogLevel, "log-level");
        Set(UiEnabled, flags.Ui, "ui");
        Set(EnableScriptChecks, flags.EnableScriptChecks, "enable-script-checks");
        foreach (var address in flags.RetryJoin)
        {
            fragment.Add(RetryJoin, address, Origin.OfFlag("retry-join"));
        }

        foreach (var address in flags.RetryJoinWan)
        {
            fragment.Add(RetryJoinWan, address, Origin.OfFlag("retry-join-wan"));
        }

        return fragment;
    }
}
