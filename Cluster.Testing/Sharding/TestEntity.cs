using Legacy.Actors;
using Legacy.Actors.Sharding;

namespace Cluster.Testing.Sharding;

/// <summary>
/// A sharded entity for tests and benchmarks: answers every <see cref="EntityCommand"/> to its
/// sender with its incarnation, node and count; "passivate" asks its shard to stop it.
/// </summary>
public sealed class TestEntity(string entityId) : Actor
{
    /// <summary>A stop message that takes <paramref name="Delay"/> to act.</summary>
    public sealed record StopAfter(TimeSpan Delay);

    private long _handled;

    public static ShardingOptions Options(string typeName = "test", int shards = 20) => new()
    {
        TypeName = typeName,
        NumberOfShards = shards,
        EntityProps = id => Props.Create(() => new TestEntity(id)),
        EntityIdOf = m => (m as EntityCommand)?.EntityId,
    };

    protected override void Receive(object message)
    {
        if (message is StopAfter stop)
        {
            // A slow stop, so tests can send messages while the entity passivates.
            Timers.StartSingleTimer("stop", PoisonPill.Instance, stop.Delay);
            return;
        }

        if (message is not EntityCommand command)
        {
            Unhandled(message);
            return;
        }

        _handled++;
        Sender.Tell(new EntityReply
        {
            EntityId = entityId,
            Seq = command.Seq,
            Incarnation = Self.Uid,
            Node = Context.System.Address.ToString(),
            Handled = _handled,
        }, Self);
        if (command.Text == "passivate")
        {
            Context.Parent.Tell(new Passivate(PoisonPill.Instance), Self);
        }
    }
}
