namespace Legacy.Actors;

/// <summary>An actor stashed more messages than its <see cref="Props.StashCapacity"/>; it fails and is supervised.</summary>
public sealed class StashOverflowException(string message) : Exception(message);
