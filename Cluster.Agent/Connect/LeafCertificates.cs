using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Contracts.State;
using Cluster.Primitives;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Connect;

/// <summary>
/// The agent's leaf cache (Consul's /v1/agent/connect/ca/leaf): per service, a loop that makes a
/// key here (it never leaves the agent), has the leader sign its CSR, and renews at the time
/// <see cref="LeafRenewal"/> picks, or soon after a root rotation. Readers block on the leaf's
/// index; the first reader of a service starts its loop.
/// </summary>
public sealed partial class LeafCertificates(IServerConnection servers, CaRootsWatch roots, string datacenter, Func<int> clusterSize, TimeProvider time, Random random, ILogger logger) : IAsyncDisposable
{
    private static readonly Backoff Retry = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30));

    /// <summary>A leaf nobody asked for in this long is not renewed again (Consul's agent cache keeps an entry 72 h after its last use).</summary>
    public static readonly TimeSpan UnusedFor = TimeSpan.FromHours(72);
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>
    /// The service's leaf once its index passes <paramref name="minIndex"/>; when
    /// <paramref name="wait"/> ends first, the leaf as it is (or, before any was issued, a
    /// <see cref="NoLeaderException"/> naming why not).
    /// </summary>
    public async Task<IssuedLeaf> WaitAsync(string service, ulong minIndex, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        var slot = _slots.GetOrAdd(service, s => new Slot(s));
        slot.LastAsked = time.GetUtcNow();
        slot.EnsureStarted(this);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        while (true)
        {
            var changed = slot.Changed.Next;
            var leaf = slot.Leaf;
            if (leaf is not null && leaf.Index > minIndex)
            {
                return leaf;
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return slot.Leaf ?? throw new NoLeaderException($"no leaf for {service} yet: {slot.LastError ?? "the CA roots are not known yet"}");
            }
        }
    }

    /// <summary>The leaf a service holds now, without starting anything (null when none was asked for).</summary>
    public IssuedLeaf? Peek(string service) => _slots.TryGetValue(service, out var slot) ? slot.Leaf : null;

    private async Task RunAsync(Slot slot, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var rootsChanged = roots.Changed;
            if (roots.Current is not { } current)
            {
                await rootsChanged.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                slot.Publish(await IssueAsync(slot, current, cancellationToken).ConfigureAwait(false));
                failures = 0;
            }
            catch (RateLimitedException e)
            {
                slot.LastError = e.Message;
                await Task.Delay(Stagger(current), time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                slot.LastError = e.Message;
                LogSignFailed(logger, slot.Service, e.Message);
                await Task.Delay(Retry.After(++failures, random), time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await UntilRenewalAsync(slot, cancellationToken).ConfigureAwait(false);
            if (time.GetUtcNow() - slot.LastAsked > UnusedFor && _slots.TryRemove(new KeyValuePair<string, Slot>(slot.Service, slot)))
            {
                return; // the service is gone or its proxy stopped asking: a later request starts afresh
            }
        }
    }

    /// <summary>Waits until the leaf is due (its renewal point) or stale (a rotation made another root active, then a stagger).</summary>
    private async Task UntilRenewalAsync(Slot slot, CancellationToken cancellationToken)
    {
        var leaf = slot.Leaf!;
        DateTimeOffset renewAt;
        lock (random)
        {
            renewAt = LeafRenewal.RenewAt(leaf, random);
        }

        while (true)
        {
            var rootsChanged = roots.Changed;
            if (roots.Current is { } current && LeafRenewal.SignedByOldRoot(leaf, current.Active.Id))
            {
                await Task.Delay(Stagger(current), time, cancellationToken).ConfigureAwait(false);
                return;
            }

            var due = renewAt - time.GetUtcNow();
            if (due < TimeSpan.FromMilliseconds(1))
            {
                // Timers count whole milliseconds: a shorter wait completes at once and would spin here.
                return;
            }

            await Task.WhenAny(rootsChanged, Task.Delay(due, time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private TimeSpan Stagger(CaRoots current)
    {
        var window = LeafRenewal.JitterWindow(clusterSize(), current.Ca.Config.CsrMaxConcurrent > 0 ? 0 : current.Ca.Config.CsrMaxPerSecond);
        lock (random)
        {
            return LeafRenewal.Stagger(window, random);
        }
    }

    private async Task<IssuedLeaf> IssueAsync(Slot slot, CaRoots current, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var id = new SpiffeId(current.Ca.TrustDomain, "default", datacenter, slot.Service);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={slot.Service}"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(id.ToUri());
        request.CertificateExtensions.Add(san.Build());
        var reply = await servers.SignAsync(new SignRequest { Csr = request.CreateSigningRequestPem(), Service = slot.Service }, cancellationToken).ConfigureAwait(false);
        var index = Math.Max(reply.Index, (slot.Leaf?.Index ?? 0) + 1);
        return new IssuedLeaf(
            reply.Service,
            reply.ServiceUri,
            reply.CertPem,
            key.ExportECPrivateKeyPem(),
            reply.SerialNumber,
            DateTimeOffset.FromUnixTimeSeconds(reply.ValidAfterUnix),
            DateTimeOffset.FromUnixTimeSeconds(reply.ValidBeforeUnix),
            reply.RootId,
            index);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var slot in _slots.Values)
        {
            if (slot.Loop is { } loop)
            {
                try
                {
                    await loop.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        _stopping.Dispose();
    }

    /// <summary>One service's leaf and its loop.</summary>
    private sealed class Slot(string service)
    {
        private readonly Lock _lock = new();
        private IssuedLeaf? _leaf;
        private long _lastAskedTicks;

        public string Service { get; } = service;

        public ChangeSignal Changed { get; } = new();

        public Task? Loop { get; private set; }

        public IssuedLeaf? Leaf => Volatile.Read(ref _leaf);

        public string? LastError { get; set; }

        public DateTimeOffset LastAsked
        {
            get => new(Interlocked.Read(ref _lastAskedTicks), TimeSpan.Zero);
            set => Interlocked.Exchange(ref _lastAskedTicks, value.UtcTicks);
        }

        public void EnsureStarted(LeafCertificates owner)
        {
            lock (_lock)
            {
                Loop ??= Task.Run(() => owner.RunAsync(this, owner._stopping.Token));
            }
        }

        public void Publish(IssuedLeaf leaf)
        {
            Volatile.Write(ref _leaf, leaf);
            LastError = null;
            Changed.Fire();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "signing a leaf for {Service} failed: {Reason}")]
    private static partial void LogSignFailed(ILogger logger, string service, string reason);
}
