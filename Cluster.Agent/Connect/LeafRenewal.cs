namespace Cluster.Agent.Connect;

/// <summary>A service's leaf as the agent holds it (Consul's IssuedCert): the key never left this agent.</summary>
public sealed record IssuedLeaf(
    string Service,
    string ServiceUri,
    string CertPem,
    string PrivateKeyPem,
    string SerialNumber,
    DateTimeOffset ValidAfter,
    DateTimeOffset ValidBefore,
    string RootId,
    ulong Index);

/// <summary>
/// When an agent asks for a leaf again, as pure functions of the leaf, the time and a random
/// source. Renewal lands at a random point in 60–90% of the lifetime, so a fleet's leaves issued
/// together do not all come due together. After a root rotation, or a refusal by the CSR limits,
/// the agent waits a random time in a window wide enough that the whole fleet's requests fit
/// under the servers' rate: Consul's 30 s, widened to agents ÷ rate when the fleet is larger.
/// </summary>
public static class LeafRenewal
{
    public static readonly TimeSpan MinJitterWindow = TimeSpan.FromSeconds(30);

    public static DateTimeOffset RenewAt(IssuedLeaf leaf, Random random)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(random);
        var lifetime = leaf.ValidBefore - leaf.ValidAfter;
        return leaf.ValidAfter + (lifetime * (0.6 + (0.3 * random.NextDouble())));
    }

    /// <summary>The window renewals spread over after a rotation: long enough for <paramref name="agents"/> at <paramref name="perSecond"/> (0 = unlimited).</summary>
    public static TimeSpan JitterWindow(int agents, double perSecond)
    {
        if (perSecond <= 0 || agents <= 0)
        {
            return MinJitterWindow;
        }

        var needed = TimeSpan.FromSeconds(agents / perSecond);
        return needed > MinJitterWindow ? needed : MinJitterWindow;
    }

    /// <summary>A random delay in [0, <paramref name="window"/>).</summary>
    public static TimeSpan Stagger(TimeSpan window, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return window * random.NextDouble();
    }

    /// <summary>Whether the leaf must be replaced now: it was signed by a root that is no longer active.</summary>
    public static bool SignedByOldRoot(IssuedLeaf leaf, string activeRootId) =>
        leaf is not null && activeRootId.Length > 0 && leaf.RootId != activeRootId;
}
