using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Cluster.Agent.Checks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests.Checks;

/// <summary>Collects a monitor's reports; tests read them in order or look at all so far.</summary>
public sealed class Updates
{
    private readonly Channel<CheckStatusUpdate> _channel = Channel.CreateUnbounded<CheckStatusUpdate>();
    private readonly List<CheckStatusUpdate> _all = [];

    public Action<CheckStatusUpdate> Callback => update =>
    {
        lock (_all)
        {
            _all.Add(update);
        }

        _channel.Writer.TryWrite(update);
    };

    public IReadOnlyList<CheckStatusUpdate> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>The next report (bounded, so a broken test fails instead of hanging).</summary>
    public Task<CheckStatusUpdate> NextAsync() => _channel.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>The (status, output) pairs reported so far.</summary>
    public IReadOnlyList<(string Status, string Output)> Pairs => [.. All.Select(u => (u.Status, u.Output))];
}

/// <summary>
/// A probe that answers from a script of results, synchronously, so a run happens entirely
/// inside the manual clock's Advance. Past the script's end it repeats the last result.
/// </summary>
public sealed class ScriptedProbe(params CheckResult[] results) : ICheckProbe
{
    private readonly Queue<CheckResult> _results = new(results);
    private CheckResult _last = CheckResult.Passing("");

    public int Calls { get; private set; }

    public bool Disposed { get; private set; }

    /// <summary>Runs that have not answered yet (set to make the next run hang until cancelled).</summary>
    public TaskCompletionSource<CheckResult>? Pending { get; set; }

    /// <summary>Completes when a hanging run starts.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        Calls++;
        if (Pending is { } pending)
        {
            cancellationToken.Register(() => pending.TrySetCanceled(cancellationToken));
            Started.TrySetResult();
            return pending.Task;
        }

        if (_results.TryDequeue(out var next))
        {
            _last = next;
        }

        return Task.FromResult(_last);
    }

    public void Enqueue(params CheckResult[] results)
    {
        foreach (var result in results)
        {
            _results.Enqueue(result);
        }
    }

    public void Dispose() => Disposed = true;
}

/// <summary>A Kestrel HTTP/1.1 server on 127.0.0.1:0 (HTTPS with a certificate) that counts the requests it gets.</summary>
public sealed class TargetServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _hits;

    private TargetServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public int Hits => Volatile.Read(ref _hits);

    public string Url(string path) => new Uri(Address, path).ToString();

    public static async Task<TargetServer> StartAsync(RequestDelegate handler, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        TargetServer? server = null;
        app.Run(context =>
        {
            Interlocked.Increment(ref server!._hits);
            return handler(context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server = new TargetServer(app, new Uri(address));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Ports and loopback helpers.</summary>
public static class Loopback
{
    /// <summary>A port nothing listens on: bound once, then released.</summary>
    public static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
