using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

/// <summary>Small random histories, most of them wrong, judged by the checker and by trying every order.</summary>
public sealed class OracleTests
{
    public static TheoryData<int> Batches() => [.. Enumerable.Range(0, 8)];

    [Theory]
    [MemberData(nameof(Batches))]
    public void The_checker_agrees_with_brute_force_on_registers(int batch) =>
        Compare(batch, RegisterModel.Instance, [OpKind.Read, OpKind.Write, OpKind.Cas], [null, "1", "2", "3"]);

    [Theory]
    [MemberData(nameof(Batches))]
    public void The_checker_agrees_with_brute_force_on_locks(int batch) =>
        Compare(batch, MutexModel.Instance, [OpKind.Read, OpKind.Acquire, OpKind.Release], ["A", "B", "C"]);

    private static void Compare<TState>(int batch, IModel<TState> model, OpKind[] kinds, string?[] values)
    {
        var verdicts = new int[2];
        for (var seed = batch * 400; seed < (batch + 1) * 400; seed++)
        {
            var history = Random(new Random(seed), kinds, values);
            var expected = BruteForce.IsLinearizable(history, model);
            var result = LinearizabilityChecker.Check(history, model);
            Assert.True(
                result.Verdict == (expected ? Verdict.Linearizable : Verdict.NotLinearizable),
                $"seed {seed}: brute force says {expected}\n{result.Describe()}");
            if (!expected)
            {
                Assert.Null(result.Keys.Single().Window!.Note);
            }

            verdicts[expected ? 1 : 0]++;
        }

        // Both answers must be well represented for the comparison to mean much.
        Assert.True(verdicts.Min() > 40, $"{verdicts[1]} linearizable, {verdicts[0]} not");
    }

    /// <summary>
    /// Up to eight operations from up to four processes (each one at a time), on whole milliseconds so
    /// that calls and returns often coincide. Reads half the time see a value some write wrote.
    /// </summary>
    private static History Random(Random random, OpKind[] kinds, string?[] values)
    {
        var ops = new List<Operation>();
        var count = random.Next(1, 9);
        var clocks = new long[random.Next(1, 5)];
        for (var id = 0; id < count; id++)
        {
            var process = random.Next(clocks.Length);
            var call = clocks[process] + random.Next(0, 30);
            var ret = call + random.Next(0, 40);
            clocks[process] = ret + 1;
            var kind = kinds[random.Next(kinds.Length)];
            var value = values[random.Next(values.Length)] ?? (kind == OpKind.Read ? null : "4");
            var expected = kind == OpKind.Cas ? values[random.Next(values.Length)] : null;
            var succeeded = kind is OpKind.Read or OpKind.Write || random.Next(2) == 0;
            var roll = random.NextDouble();
            var status = roll < 0.7 ? OpStatus.Ok : roll < 0.9 ? OpStatus.Unknown : OpStatus.Failed;
            ops.Add(new Operation(id, process, "k", kind, value, expected, succeeded, call * 1_000_000, ret * 1_000_000, status));
        }

        return new History(ops);
    }
}
