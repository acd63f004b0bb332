using Cluster.Grpc.Client;

namespace Cluster.Server.Core;

/// <summary>One gRPC channel per server address ("host:port"), made on first use and kept (each holds its HTTP/2 connection).</summary>
public sealed class ChannelCache(GrpcChannelOptions options) : IDisposable
{
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public GrpcChannel For(string address)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(address, out var channel))
            {
                channel = GrpcChannel.ForAddress(new Uri($"http://{address}"), options);
                _channels[address] = channel;
            }

            return channel;
        }
    }

    public void Dispose()
    {
        lock (_channels)
        {
            foreach (var channel in _channels.Values)
            {
                channel.Dispose();
            }

            _channels.Clear();
        }
    }
}
