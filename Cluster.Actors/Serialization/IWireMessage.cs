namespace Cluster.Actors.Serialization;

/// <summary>
/// Marks a message that may cross nodes. Only these are bound to <see cref="MessagePackActorSerializer"/>,
/// and only the ones listed in the node's <see cref="MessageRegistry"/> are accepted from a peer;
/// anything else sent to another node fails loudly instead of falling back to reflection-based JSON.
/// </summary>
public interface IWireMessage;
