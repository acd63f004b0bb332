using Cluster.Contracts;
using Cluster.Agent.Config;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Cluster.Agent.Checks;

/// <summary>
/// Consul's gRPC check: the standard health protocol's Check call (Grpc.HealthCheck's client)
/// for the service after the "/" (empty: the server as a whole); SERVING is passing, any other
/// answer or error critical.
/// </summary>
internal sealed class GrpcProbe : ICheckProbe
{
    private readonly GrpcChannel _channel;
    private readonly Health.HealthClient _client;
    private readonly HealthCheckRequest _request;
    private readonly string _target;
    private readonly TimeSpan _timeout;

    public GrpcProbe(CheckDefinition definition, HttpMessageHandler handler, TimeSpan timeout)
    {
        var target = definition.Grpc ?? "";
        var slash = target.IndexOf('/', StringComparison.Ordinal);
        var address = HostPort.Parse(slash < 0 ? target : target[..slash], definition.Id, "grpc");
        _request = new HealthCheckRequest { Service = slash < 0 ? "" : target[(slash + 1)..] };
        _target = target;
        _timeout = timeout;
        var scheme = definition.GrpcUseTls ? "https" : "http";
        _channel = GrpcChannel.ForAddress($"{scheme}://{address}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        _client = new Health.HealthClient(_channel);
    }

    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The deadline tells the server how long we wait (the library keeps it on the wall
            // clock); the token, on the injected clock, is what ends the wait here.
            var response = await _client.CheckAsync(_request, deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken);
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? CheckResult.Passing($"gRPC check {_target}: success")
                : CheckResult.Critical($"gRPC check {_target}: failed: status {StatusName(response.Status)}");
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.DeadlineExceeded || cancellationToken.IsCancellationRequested)
        {
            return CheckResult.Critical($"gRPC check {_target}: timed out after {GoDuration.Format(_timeout)}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return CheckResult.Critical($"gRPC check {_target}: timed out after {GoDuration.Format(_timeout)}");
        }
        catch (RpcException ex)
        {
            return CheckResult.Critical($"gRPC check {_target}: failed: {ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    public void Dispose() => _channel.Dispose();

    private static string StatusName(HealthCheckResponse.Types.ServingStatus status) =>
        HealthCheckResponse.Descriptor.EnumTypes[0].FindValueByNumber((int)status)?.Name
        ?? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
