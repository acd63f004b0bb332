namespace Cluster.Gossip.Core;

/// <summary>
/// Delivers each (Lamport time, key) once and refuses anything older than the last
/// <see cref="Width"/> Lamport ticks, so memory stays bounded and a captured packet replayed
/// later changes nothing: while it is inside the window it is a duplicate, after that it is too old.
/// </summary>
internal sealed class ReplayWindow(ulong width)
{
    private readonly HashSet<(ulong Lamport, string Key)> _seen = [];

    public ulong Width { get; } = width;

    /// <summary>Refused as older than the window.</summary>
    public long TooOld { get; private set; }

    /// <summary>True the first time (lamport, key) is seen while inside the window of <paramref name="clock"/>.</summary>
    public bool Admit(ulong lamport, string key, ulong clock)
    {
        if (clock >= Width && lamport <= clock - Width)
        {
            TooOld++;
            return false;
        }

        if (!_seen.Add((lamport, key)))
        {
            return false;
        }

        if (_seen.Count > 2 * (int)Math.Min(Width, int.MaxValue / 2) && clock >= Width)
        {
            _seen.RemoveWhere(e => e.Lamport <= clock - Width);
        }

        return true;
    }
}
