namespace Cluster.Agent.Config;

/// <summary>
/// The agent cannot start with the configuration it was given: a bad flag, a missing setting or
/// settings that contradict each other. A bad value read from a file is the derived
/// <see cref="ConfigException"/>, which also says where it was written.
/// </summary>
public class AgentConfigException(string message) : Exception(message);
