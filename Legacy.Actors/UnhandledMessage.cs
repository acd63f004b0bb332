namespace Legacy.Actors;

/// <summary>A message an actor received but did not handle, published on the event stream.</summary>
public sealed record UnhandledMessage(object Message, ActorRef? Sender, ActorRef Recipient);
