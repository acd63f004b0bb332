using Akka.Actor;
using Cluster.Actors.Sharding;

namespace Cluster.Benchmarks;

/// <summary>The Akka benchmark's sharded entity: answers every <see cref="BenchCommand"/> to its sender with its incarnation.</summary>
internal sealed class BenchEntity : PassivatingEntity
{
    public const string TypeName = "bench";

    // Entities passivate themselves as ours do, but not within a benchmark run.
    private static readonly TimeSpan Idle = TimeSpan.FromHours(1);
    private static long s_incarnations;

    private readonly int _entity;
    private readonly long _incarnation = Interlocked.Increment(ref s_incarnations);

    // Public: Akka creates actors from Props through a public constructor.
    public BenchEntity(int entity)
        : base(Idle)
    {
        _entity = entity;
    }

    /// <summary>Props for entity "home/e123" (the form <see cref="EntityKeys.EntityId"/> makes).</summary>
    public static Props Props(string entityId)
    {
        var entity = BenchIds.Parse(entityId[(entityId.IndexOf('/', StringComparison.Ordinal) + 1)..]);
        return Akka.Actor.Props.Create(() => new BenchEntity(entity));
    }

    protected override void Handle(object message)
    {
        if (message is BenchCommand command)
        {
            Sender.Tell(new BenchReply(_entity, command.Seq, _incarnation), Self);
        }
    }
}
