using System.Globalization;
using Akka.Configuration;
using Cluster.Actors.Serialization;

namespace Cluster.Actors;

/// <summary>The Akka configuration every node runs with, and why each setting differs from Akka's default.</summary>
public static class NodeConfig
{
    public static Config For(ActorNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var port = options.Port.ToString(CultureInfo.InvariantCulture);
        // With a logger factory, Akka's log joins the host's (the agent's stdout is its start lines
        // and its own log); Akka's stdout logger stays off even while the system starts and stops.
        var loggers = options.Logging is null ? "" : $$"""
            loggers = ["{{typeof(Akka.Hosting.Logging.LoggerFactoryLogger).FullName}}, {{typeof(Akka.Hosting.Logging.LoggerFactoryLogger).Assembly.GetName().Name}}"]
            """;
        var hocon = $$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = {{(options.Logging is null ? "WARNING" : "OFF")}}
              {{loggers}}
              actor {
                provider = cluster
                # Nothing crosses nodes through reflection: our messages through MessagePack
                # (bound in code, with their registry), Akka's own through its protobuf serializers,
                # anything else is refused at the sender.
                serializers.refuse = "{{typeof(RefusingSerializer).FullName}}, {{typeof(RefusingSerializer).Assembly.GetName().Name}}"
                serialization-bindings { "System.Object" = refuse }
              }
              remote.dot-netty.tcp {
                hostname = "{{options.BindHostname ?? options.Hostname}}"
                public-hostname = "{{options.Hostname}}"
                port = {{port}}
              }
              cluster {
                # Gossip downs members (FormationPlanner); Akka's split-brain resolver would be a
                # second failure detector deciding the same question on other timeouts.
                downing-provider-class = ""
                # A node gossip declared failed but that is alive after all is downed; it then
                # starts a new incarnation (ActorNode) instead of stopping the process.
                run-coordinated-shutdown-when-down = off
                sharding {
                  # ddata, not the deprecated persistence store (no journal to run).
                  state-store-mode = ddata
                  remember-entities = off
                  # Entities passivate themselves (PassivatingEntity): Akka's idle timer would stop
                  # one that holds a live stream.
                  passivate-idle-entity-after = off
                }
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = off
            }
            """;
        var config = ConfigurationFactory.ParseString(hocon);
        return options.ExtraConfig is { } extra ? ConfigurationFactory.ParseString(extra).WithFallback(config) : config;
    }
}
