namespace Legacy.Actors;

/// <summary>
/// Told to a watcher after the watched actor stopped, after every message that actor sent
/// the watcher before stopping. <paramref name="ExistenceConfirmed"/> is false when the actor
/// never existed (or was long gone); <paramref name="AddressTerminated"/> when its node was lost.
/// </summary>
public sealed record Terminated(ActorRef Actor, bool ExistenceConfirmed, bool AddressTerminated);
