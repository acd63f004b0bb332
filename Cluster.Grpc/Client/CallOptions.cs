namespace Cluster.Grpc.Client;

/// <summary>Per-call settings: custom request headers, a deadline and a cancellation token.</summary>
public readonly record struct CallOptions(
    Metadata? Headers = null,
    DateTimeOffset? Deadline = null,
    CancellationToken CancellationToken = default)
{
    /// <summary>A deadline this far from now on the channel's clock.</summary>
    public static CallOptions WithTimeout(TimeSpan timeout, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new(Deadline: (time ?? TimeProvider.System).GetUtcNow() + timeout, CancellationToken: cancellationToken);
}
