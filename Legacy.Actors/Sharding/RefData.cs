using Legacy.Actors.Remoting.Wire;

namespace Legacy.Actors.Sharding;

/// <summary>Actor references inside protocol messages, with or without remoting.</summary>
internal static class RefData
{
    public static ActorRefData To(ActorSystem system, ActorRef actor) =>
        system.Remote?.ToData(actor) ?? new ActorRefData { Path = actor.Path.ToString(), Uid = actor.Uid };

    public static ActorRef From(ActorSystem system, ActorRefData? data)
    {
        if (data is null)
        {
            return system.DeadLetters;
        }

        if (system.Remote is { } remote)
        {
            return remote.FromData(data);
        }

        try
        {
            return system.Resolve(ActorPath.Parse(data.Path), data.Uid);
        }
        catch (Exception exception) when (exception is FormatException or InvalidActorNameException)
        {
            return system.DeadLetters;
        }
    }
}
