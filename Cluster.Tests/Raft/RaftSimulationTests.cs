using Cluster.Testing.Raft;

namespace Cluster.Tests.Raft;

/// <summary>
/// 2,000 seeded chaos runs (1,000 of 3 nodes, 1,000 of 5) with the safety and liveness checks
/// of <see cref="RaftChaos"/>. A failure names its seed; replay it with
/// <c>./scripts/raft-sim --nodes N --from SEED --seeds 1</c>.
/// </summary>
public sealed class RaftSimulationTests
{
    private const int Batches = 20;
    private const int SeedsPerBatch = 50;

    public static TheoryData<int, int> Runs()
    {
        var data = new TheoryData<int, int>();
        foreach (var nodes in new[] { 3, 5 })
        {
            for (var batch = 0; batch < Batches; batch++)
            {
                data.Add(nodes, batch);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Safety_and_liveness_hold_under_loss_partitions_and_crashes(int nodes, int batch)
    {
        for (var seed = batch * SeedsPerBatch; seed < (batch + 1) * SeedsPerBatch; seed++)
        {
            RaftChaos.Run(nodes, seed);
        }
    }
}
