using Cluster.Actors;
using System.Net;
using Cluster.Agent.Connect;
using Cluster.Agent.Local;
using Cluster.Server.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Http;

/// <summary>
/// Consul's /v1 HTTP API on Kestrel: one request delegate routes by method and path to the
/// endpoint files (<c>HttpApi.*.cs</c>). Errors are plain text with Consul's status codes; an
/// unknown path is 404, a known path with the wrong method 405.
/// </summary>
public sealed partial class HttpApi : IAsyncDisposable
{
    private readonly List<Route> _routes = [];
    private WebApplication? _app;

    /// <summary>
    /// Server and client agents run the same handlers: what needs the servers goes through
    /// <see cref="IAgentNode.Servers"/>, which a server answers from its own store and Raft and a
    /// client agent over gRPC.
    /// </summary>
    public HttpApi(IAgentNode node, LocalAgent agent, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Node = node;
        Agent = agent;
        MapKv();
        MapCatalog();
        MapHealth();
        MapAgent();
        MapSessions();
        MapStatusAndOperator();
        MapConfig();
        MapConnectCa();
        MapIntentions();
        Connect = new AgentConnect(
            node.Servers,
            node.Datacenter,
            () => node.Lan.Members.Count,
            time ?? TimeProvider.System,
            new Random(),
            loggerFactory);
    }

    public IAgentNode Node { get; }

    /// <summary>The agent's CA roots and leaf caches (started by their first reader).</summary>
    public AgentConnect Connect { get; }

    public LocalAgent Agent { get; }

    /// <summary>The agent's node in the datacenter's Akka cluster (<c>/v1/agent/actors</c>); null in hosts that run none.</summary>
    public ActorNode? Actors { get; set; }

    public string Datacenter => Node.Datacenter;

    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public async Task StartAsync(IPEndPoint endpoint, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(endpoint, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 8 << 20;
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
        Addresses = [.. app.Urls.Select(u => new Uri(u))];
    }

    /// <summary>The request delegate (also usable on any Kestrel pipeline or test host).</summary>
    public async Task HandleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var path = RequestPath(http);
        try
        {
            // Exact paths win over prefixes, longer prefixes over shorter; then the method decides.
            var candidates = _routes
                .Where(r => r.Prefix ? path.StartsWith(r.Path, StringComparison.Ordinal) : path == r.Path)
                .OrderBy(r => r.Prefix)
                .ThenByDescending(r => r.Path.Length)
                .ToList();
            if (candidates.Count == 0)
            {
                throw ApiException.NotFound($"Unknown path: {path}");
            }

            var matched = candidates.FirstOrDefault(r => r.Methods.Contains(http.Request.Method));
            if (matched is null)
            {
                var allowed = candidates.SelectMany(r => r.Methods).Distinct(StringComparer.Ordinal);
                http.Response.Headers.Allow = string.Join(", ", allowed);
                throw new ApiException(StatusCodes.Status405MethodNotAllowed, $"method {http.Request.Method} not allowed");
            }

            var rest = matched.Prefix ? path[matched.Path.Length..] : "";
            await matched.Handler(new ApiRequest(http, rest));
        }
        catch (ApiException e)
        {
            await WriteErrorAsync(http, e.Status, e.Message);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            // Kestrel's own refusals while the body is read (over its size limit, cut short).
            await WriteErrorAsync(http, e.StatusCode, e.Message);
        }
        catch (InvalidRequestException e)
        {
            await WriteErrorAsync(http, StatusCodes.Status400BadRequest, e.Message);
        }
        catch (Cluster.Server.Connect.RateLimitedException e)
        {
            await WriteErrorAsync(http, StatusCodes.Status429TooManyRequests, e.Message);
        }
        catch (NoLeaderException e)
        {
            await WriteErrorAsync(http, StatusCodes.Status500InternalServerError, e.Message);
        }
        catch (global::Grpc.Core.RpcException e)
        {
            // A client agent's call that no server answered.
            await WriteErrorAsync(http, StatusCodes.Status500InternalServerError, e.Status.Detail);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is Cluster.Raft.Server.NotLeaderException or InvalidOperationException or TimeoutException)
        {
            await WriteErrorAsync(http, StatusCodes.Status500InternalServerError, e.Message);
        }
    }

    /// <summary>
    /// The path with every escape decoded once, as Go's URL.Path (and so Consul) has it. Kestrel's
    /// Path decodes all but %2F, so decoding it again would read a key sent as "a%2541" as "aA";
    /// the raw target is decoded instead, unless it has dot segments (which Kestrel removed).
    /// </summary>
    private static string RequestPath(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "/";
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is { Length: > 0 } && raw[0] == '/')
        {
            var query = raw.IndexOf('?', StringComparison.Ordinal);
            var decoded = Uri.UnescapeDataString(query < 0 ? raw : raw[..query]);
            if (!decoded.Split('/').Any(segment => segment is "." or ".."))
            {
                return decoded;
            }
        }

        return path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task WriteErrorAsync(HttpContext http, int status, string message)
    {
        if (http.Response.HasStarted)
        {
            return;
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(message + "\n");
    }

    /// <summary>
    /// A write endpoint that pre-1.0 Consul served on GET and old clients still call that way
    /// (Debian's python3-consul 0.7). GET is accepted only from non-browser clients: a request a
    /// browser sends cross-site carries Origin or Sec-Fetch-Site, so a web page cannot use it to
    /// deregister services or flip checks (the CSRF that made Consul 1.0 drop GET here).
    /// </summary>
    private void MapLegacyGet(string path, Func<ApiRequest, Task> handler) =>
        Map("PUT,GET", path, request =>
        {
            var headers = request.Http.Request.Headers;
            var fromBrowser = headers.ContainsKey("Origin") || (headers.TryGetValue("Sec-Fetch-Site", out var site) && site != "same-origin" && site != "none");
            return request.Method == "GET" && fromBrowser
                ? throw new ApiException(StatusCodes.Status405MethodNotAllowed, $"method GET not allowed from a browser on {path.TrimEnd('*')}: use PUT")
                : handler(request);
        });

    private void Map(string methods, string path, Func<ApiRequest, Task> handler) =>
        _routes.Add(new Route(methods.Split(','), path.TrimEnd('*'), path.EndsWith('*'), handler));

    public async ValueTask DisposeAsync()
    {
        await Connect.DisposeAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed record Route(string[] Methods, string Path, bool Prefix, Func<ApiRequest, Task> Handler);
}
