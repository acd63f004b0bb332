using Cluster.Agent.Config;
using Cluster.Agent.Wire;
using Cluster.Grpc;
using Cluster.Grpc.Client;

namespace Cluster.Agent.Checks;

/// <summary>
/// Consul's gRPC check: the standard health protocol's Check call for the service after the
/// "/" (empty: the server as a whole); SERVING is passing, any other answer or error critical.
/// </summary>
internal sealed class GrpcProbe : ICheckProbe
{
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> CheckMethod =
        Method.FromDescriptor<HealthCheckRequest, HealthCheckResponse>(HealthReflection.Descriptor, "grpc.health.v1.Health", "Check");

    private readonly GrpcChannel _channel;
    private readonly HealthCheckRequest _request;
    private readonly string _target;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public GrpcProbe(CheckDefinition definition, HttpMessageHandler handler, TimeSpan timeout, TimeProvider time)
    {
        var target = definition.Grpc ?? "";
        var slash = target.IndexOf('/', StringComparison.Ordinal);
        var address = HostPort.Parse(slash < 0 ? target : target[..slash], definition.Id, "grpc");
        _request = new HealthCheckRequest { Service = slash < 0 ? "" : target[(slash + 1)..] };
        _target = target;
        _timeout = timeout;
        _time = time;
        var scheme = definition.GrpcUseTls ? "https" : "http";
        _channel = GrpcChannel.ForAddress($"{scheme}://{address}", new GrpcChannelOptions { HttpHandler = handler, TimeProvider = time });
    }

    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The deadline tells the server how long we wait; the token is what ends the wait here.
            var options = new CallOptions(Deadline: _time.GetUtcNow() + _timeout, CancellationToken: cancellationToken);
            var response = await _channel.UnaryAsync(CheckMethod, _request, options);
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
