namespace Legacy.Actors;

/// <summary>Stops the actor once the messages queued before it have been handled.</summary>
public sealed class PoisonPill
{
    public static PoisonPill Instance { get; } = new();

    private PoisonPill()
    {
    }
}
