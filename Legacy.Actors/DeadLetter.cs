namespace Legacy.Actors;

/// <summary>A message that could not be delivered, published on the event stream.</summary>
public sealed record DeadLetter(object Message, ActorRef? Sender, ActorRef Recipient, string Reason);
