using System.Collections.Concurrent;
using Cluster.Testing.Raft;
using Google.Protobuf;

namespace Cluster.Tests.Raft;

/// <summary>
/// Three Raft servers as real processes on loopback with fsync on: the leader is SIGKILLed
/// again and again under client load, then every server at once; every write a client saw
/// acknowledged must still be there. Snapshots are taken every 200 entries, so restarted
/// servers also recover from snapshots and catch up through InstallSnapshot.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RaftProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan RpcTimeout = TimeSpan.FromSeconds(2);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raft-process-" + Guid.NewGuid().ToString("N"));
    private RaftProcessCluster? _cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task No_acknowledged_write_is_lost_when_the_leader_is_killed_again_and_again_or_everyone_restarts()
    {
        _cluster = await RaftProcessCluster.StartAsync(3, _root, "--snapshot-threshold", "200");
        var cluster = _cluster;
        var acknowledged = new ConcurrentDictionary<string, ByteString>();
        var progress = new AckProgress();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var target = leader;
            for (var seq = 0; !stop.IsCancellationRequested; seq++)
            {
                var key = $"w{w}-{seq}";
                var value = ByteString.CopyFromUtf8($"{key}:{new string('v', 32)}");
                if (cluster.IsRunning(target) && await cluster.TryPutAsync(target, key, value, RpcTimeout) is not null)
                {
                    acknowledged[key] = value;
                    progress.Advance();
                    continue;
                }

                // Not acknowledged: it may or may not have committed. Wait for the leader everyone agrees on, then go on.
                try
                {
                    target = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException) when (stop.IsCancellationRequested)
                {
                }
            }
        })).ToList();

        for (var round = 0; round < 3; round++)
        {
            await progress.GrowsAsync(by: 150);
            leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
            await cluster.KillAsync(leader);
            await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30), notThis: leader);
            await progress.GrowsAsync(by: 50); // writes resume on the new leader
            await cluster.RestartAsync(leader);
        }

        await progress.GrowsAsync(by: 50);
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledged.Count >= 750);

        leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await AllPresentAsync(cluster, leader, acknowledged);
        var statuses = await Task.WhenAll(cluster.Ids.Select(id => cluster.StatusAsync(id, RpcTimeout)));
        Assert.All(statuses, s => Assert.True(s!.SnapshotIndex > 0)); // the logs were compacted along the way
        Assert.Single(statuses.Select(s => s!.Term).Distinct());

        // Every server down at once, then up again: the state comes back from the disks.
        foreach (var id in cluster.Ids.ToList())
        {
            await cluster.KillAsync(id);
        }

        foreach (var id in cluster.Ids.ToList())
        {
            await cluster.RestartAsync(id);
        }

        leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await AllPresentAsync(cluster, leader, acknowledged);
    }

    private static async Task AllPresentAsync(RaftProcessCluster cluster, ulong leader, ConcurrentDictionary<string, ByteString> acknowledged)
    {
        var missing = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (pair, _) =>
        {
            var reply = await cluster.TryGetAsync(leader, pair.Key, TimeSpan.FromSeconds(10));
            Assert.NotNull(reply); // the leader serves linearizable reads
            if (!reply.Found || reply.Value != pair.Value)
            {
                missing.Add(pair.Key);
            }
        });

        Assert.Empty(missing);
    }

    /// <summary>Counts acknowledged writes; waiters wake when the count reaches their target (bounded), no polling.</summary>
    private sealed class AckProgress
    {
        private readonly Lock _gate = new();
        private readonly List<(long Target, TaskCompletionSource Reached)> _waiters = [];
        private long _count;

        public void Advance()
        {
            lock (_gate)
            {
                _count++;
                foreach (var waiter in _waiters.Where(w => w.Target <= _count).ToList())
                {
                    waiter.Reached.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        public Task GrowsAsync(int by)
        {
            lock (_gate)
            {
                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((_count + by, reached));
                return reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }
        }
    }
}
