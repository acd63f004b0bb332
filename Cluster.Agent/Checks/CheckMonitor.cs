using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Checks;

/// <summary>
/// Runs one check and reports its status. Every change of status or output goes to the
/// callback, one at a time and never after <see cref="DisposeAsync"/> has returned (so do not
/// dispose a monitor from inside its own callback).
/// </summary>
public abstract class CheckMonitor : IAsyncDisposable
{
    private readonly Action<CheckStatusUpdate> _onUpdate;
    private volatile CheckResult _current;

    private protected CheckMonitor(string checkId, string initialStatus, Action<CheckStatusUpdate> onUpdate, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(onUpdate);
        CheckId = checkId;
        _current = new CheckResult(initialStatus, "");
        _onUpdate = onUpdate;
        Logger = logger;
    }

    public string CheckId { get; }

    /// <summary>The last status and output reported (the definition's initial status before the first).</summary>
    public CheckResult Current => _current;

    private protected ILogger Logger { get; }

    /// <summary>Starts the check; call once.</summary>
    public abstract void Start();

    /// <summary>Stops the check, cancelling a run in progress (a script's process tree is killed), and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        GC.SuppressFinalize(this);
    }

    private protected abstract ValueTask StopAsync();

    /// <summary>Reports <paramref name="result"/> when it differs from the last one.</summary>
    private protected void Publish(CheckResult result)
    {
        if (result == _current)
        {
            return;
        }

        if (result.Status != _current.Status)
        {
            CheckLog.StatusChanged(Logger, CheckId, result.Status);
        }

        _current = result;
        try
        {
            _onUpdate(new CheckStatusUpdate(CheckId, result.Status, result.Output));
        }
        catch (Exception ex)
        {
            // The check keeps running whatever its consumer does with the news.
            CheckLog.CallbackThrew(Logger, CheckId, ex);
        }
    }
}
