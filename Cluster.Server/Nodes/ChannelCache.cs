using Cluster.Contracts.State;
using Grpc.Net.Client;

namespace Cluster.Server.Nodes;

/// <summary>
/// One gRPC channel per server address ("host:port"), made on first use and kept (each holds its
/// HTTP/2 connections), and the ServerRpc client over it.
/// </summary>
public sealed class ChannelCache(TimeSpan connectTimeout) : IDisposable
{
    private readonly Dictionary<string, (GrpcChannel Channel, ServerRpc.ServerRpcClient Client)> _channels = new(StringComparer.Ordinal);

    public ServerRpc.ServerRpcClient For(string address)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(address, out var entry))
            {
                var channel = GrpcChannel.ForAddress(new Uri($"http://{address}"), new GrpcChannelOptions
                {
                    // Forwarded HTTP bodies and catalog replies may be large (as the server accepts: 64 MiB).
                    MaxReceiveMessageSize = 64 << 20,
                    HttpHandler = new SocketsHttpHandler
                    {
                        ConnectTimeout = connectTimeout,
                        // More than the server's streams per connection open another connection instead of queueing.
                        EnableMultipleHttp2Connections = true,
                        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                        // A server that vanished without a FIN is found in seconds, not when TCP gives up.
                        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                        KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                        UseProxy = false,
                    },
                });
                entry = (channel, new ServerRpc.ServerRpcClient(channel));
                _channels[address] = entry;
            }

            return entry.Client;
        }
    }

    public void Dispose()
    {
        lock (_channels)
        {
            foreach (var (channel, _) in _channels.Values)
            {
                channel.Dispose();
            }

            _channels.Clear();
        }
    }
}
