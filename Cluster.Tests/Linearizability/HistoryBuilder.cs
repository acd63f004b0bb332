using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

/// <summary>Hand-written histories in milliseconds; ids follow the order operations are added.</summary>
internal sealed class HistoryBuilder(string key = "k")
{
    private readonly List<Operation> _ops = [];
    private string _key = key;

    public IReadOnlyList<Operation> Operations => _ops;

    public Operation Last => _ops[^1];

    public HistoryBuilder On(string key)
    {
        _key = key;
        return this;
    }

    public HistoryBuilder Read(int process, string? value, double call, double ret, string detail = "", OpStatus status = OpStatus.Ok) =>
        Add(process, OpKind.Read, value, null, true, call, ret, status, detail);

    public HistoryBuilder Write(int process, string value, double call, double ret, OpStatus status = OpStatus.Ok) =>
        Add(process, OpKind.Write, value, null, true, call, ret, status);

    public HistoryBuilder UnknownWrite(int process, string value, double call) =>
        Add(process, OpKind.Write, value, null, true, call, 0, OpStatus.Unknown);

    public HistoryBuilder Cas(int process, string? expected, string value, bool ok, double call, double ret, OpStatus status = OpStatus.Ok) =>
        Add(process, OpKind.Cas, value, expected, ok, call, ret, status);

    public HistoryBuilder Acquire(int process, string session, bool ok, double call, double ret, OpStatus status = OpStatus.Ok) =>
        Add(process, OpKind.Acquire, session, null, ok, call, ret, status);

    public HistoryBuilder Release(int process, string session, bool ok, double call, double ret, OpStatus status = OpStatus.Ok) =>
        Add(process, OpKind.Release, session, null, ok, call, ret, status);

    public History Build() => new(_ops);

    private HistoryBuilder Add(
        int process, OpKind kind, string? value, string? expected, bool ok, double call, double ret, OpStatus status, string detail = "")
    {
        _ops.Add(new Operation(_ops.Count, process, _key, kind, value, expected, ok, Nanos(call), Nanos(ret), status, detail));
        return this;
    }

    private static long Nanos(double milliseconds) => (long)Math.Round(milliseconds * 1_000_000);
}
