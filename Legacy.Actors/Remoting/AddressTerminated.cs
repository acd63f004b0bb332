namespace Legacy.Actors.Remoting;

/// <summary>Published on the event stream when a peer node (one incarnation of it) is considered gone.</summary>
public sealed record AddressTerminated(Address Address, string Reason);
