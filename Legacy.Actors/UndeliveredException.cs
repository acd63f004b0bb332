namespace Legacy.Actors;

/// <summary>An Ask whose question went to dead letters: it fails at once instead of timing out.</summary>
public sealed class UndeliveredException(string message) : Exception(message);
