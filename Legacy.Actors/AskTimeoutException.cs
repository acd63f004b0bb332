namespace Legacy.Actors;

/// <summary>No reply arrived within the Ask's timeout.</summary>
public sealed class AskTimeoutException(string message) : TimeoutException(message);
