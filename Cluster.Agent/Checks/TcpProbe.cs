using System.Net.Sockets;
using Cluster.Contracts;

namespace Cluster.Agent.Checks;

/// <summary>Consul's TCP check: passing when a connection opens, critical with the error otherwise.</summary>
internal sealed class TcpProbe(HostPort target, TimeSpan timeout) : ICheckProbe
{
    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(target.Host, target.Port, cancellationToken);
            return CheckResult.Passing($"TCP connect {target}: Success");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return CheckResult.Critical($"TCP connect {target}: timed out after {GoDuration.Format(timeout)}");
        }
        catch (SocketException ex)
        {
            return CheckResult.Critical($"TCP connect {target}: {ex.Message}");
        }
    }

    public void Dispose()
    {
    }
}
