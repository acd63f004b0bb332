using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary>Why a call to the agent failed, worded as Consul's Go client words it (commands prefix it with what they were doing).</summary>
internal sealed class AgentException(string message) : Exception(message);

/// <summary>One answer from the agent: its status and body.</summary>
internal sealed record AgentResponse(HttpStatusCode Status, byte[] Body)
{
    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>The body as JSON; null for an empty body or a JSON null (a 404 from the KV store, say).</summary>
    public JsonNode? Json() => Body.Length == 0 ? null : JsonNode.Parse(Body);

    /// <summary>Writes answer <c>true</c> or <c>false</c> (KV CAS, locks, config entries).</summary>
    public bool IsTrue => Text.Trim() == "true";
}

/// <summary>
/// The HTTP options every command takes, as Consul's: -http-addr (else CONSUL_HTTP_ADDR, else
/// 127.0.0.1:8500), -token (else CONSUL_HTTP_TOKEN), -datacenter and -stale.
/// </summary>
internal sealed class HttpOptions
{
    private const string DefaultAddress = "127.0.0.1:8500";
    private readonly Flag<string> _address;
    private readonly Flag<string> _token;
    private readonly Flag<string> _datacenter;
    private readonly Flag<bool> _stale;

    public HttpOptions(FlagSet flags)
    {
        _address = flags.String("http-addr", "The address and port of the agent HTTP API (http:// or https://; host:port means http). Also CONSUL_HTTP_ADDR. Default 127.0.0.1:8500.", placeholder: "address", section: FlagSet.HttpSection);
        _token = flags.String("token", "ACL token to use in the request, sent as X-Consul-Token. Also CONSUL_HTTP_TOKEN.", placeholder: "value", section: FlagSet.HttpSection);
        _datacenter = flags.String("datacenter", "Name of the datacenter to query. Defaults to the datacenter of the queried agent.", placeholder: "value", section: FlagSet.HttpSection);
        _stale = flags.Bool("stale", "Permit any server to answer reads, not only the leader. Faster, but the answer may be stale.", FlagSet.HttpSection);
    }

    /// <summary>A client for the agent these options name, or false (and Consul's message on stderr) if the address cannot be used.</summary>
    public bool TryConnect(CliEnvironment env, [NotNullWhen(true)] out AgentClient? client)
    {
        var address = _address.IsSet ? _address.Value : NonEmpty(env.Variable("CONSUL_HTTP_ADDR")) ?? DefaultAddress;
        var token = _token.IsSet ? _token.Value : env.Variable("CONSUL_HTTP_TOKEN") ?? "";
        var ssl = env.Variable("CONSUL_HTTP_SSL") is "1" or "t" or "T" or "true" or "TRUE" or "True";
        try
        {
            client = new AgentClient(BaseUri(address, ssl), token, _datacenter.Value, _stale.Value);
            return true;
        }
        catch (AgentException e)
        {
            env.Error.WriteLine($"Error connecting to Consul agent: {e.Message}");
            client = null;
            return false;
        }
    }

    // The Go client's reading: an optional scheme, then host[:port], then an optional path prefix.
    private static Uri BaseUri(string address, bool ssl)
    {
        var scheme = ssl ? "https" : "http";
        var split = address.IndexOf("://", StringComparison.Ordinal);
        if (split >= 0)
        {
            scheme = address[..split];
            if (scheme is not ("http" or "https"))
            {
                throw new AgentException($"Unknown protocol scheme: {scheme}");
            }

            address = address[(split + 3)..];
        }

        if (!Uri.TryCreate($"{scheme}://{address.TrimEnd('/')}/", UriKind.Absolute, out var uri) || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new AgentException($"Invalid address: {address}");
        }

        return uri;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>Sends Consul-shaped requests to one agent and turns failures into <see cref="AgentException"/>s.</summary>
internal sealed class AgentClient(Uri baseUri, string token, string datacenter, bool stale) : IDisposable
{
    private readonly HttpClient _http = new();

    /// <summary>
    /// Sends one request. <paramref name="path"/> is already escaped (see <see cref="EscapePath"/>);
    /// a query parameter with a null value is sent bare (<c>?recurse</c>). Any status other than
    /// 2xx is an error, except 404 when <paramref name="notFoundIsAnswer"/> (the KV store's "no such key").
    /// </summary>
    public async Task<AgentResponse> SendAsync(HttpMethod method, string path, IEnumerable<(string Key, string? Value)>? query = null, byte[]? body = null, bool notFoundIsAnswer = false)
    {
        var parameters = new List<(string Key, string? Value)>(query ?? []);
        if (datacenter.Length > 0)
        {
            parameters.Add(("dc", datacenter));
        }

        // As in Consul's client, -stale only changes reads.
        if (stale && method == HttpMethod.Get)
        {
            parameters.Add(("stale", null));
        }

        var queryString = string.Join('&', parameters.Select(p => p.Value is null ? Uri.EscapeDataString(p.Key) : $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        var uri = new Uri(baseUri, path.TrimStart('/') + (queryString.Length > 0 ? "?" + queryString : ""));
        using var request = new HttpRequestMessage(method, uri);
        if (token.Length > 0)
        {
            request.Headers.Add("X-Consul-Token", token);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        try
        {
            using var response = await _http.SendAsync(request);
            var answer = new AgentResponse(response.StatusCode, await response.Content.ReadAsByteArrayAsync());
            if (!response.IsSuccessStatusCode && !(notFoundIsAnswer && answer.IsNotFound))
            {
                throw new AgentException($"Unexpected response code: {(int)response.StatusCode} ({answer.Text.TrimEnd()})");
            }

            return answer;
        }
        catch (HttpRequestException e)
        {
            throw new AgentException($"{GoMethod(method)} \"{uri.AbsoluteUri}\": {Describe(e, uri)}");
        }
        catch (TaskCanceledException)
        {
            throw new AgentException($"{GoMethod(method)} \"{uri.AbsoluteUri}\": Client.Timeout exceeded while awaiting headers");
        }
    }

    /// <summary>A key or name for a URL path: each segment escaped, the slashes between them kept.</summary>
    public static string EscapePath(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    public void Dispose() => _http.Dispose();

    private static string GoMethod(HttpMethod method) => method.Method[..1] + method.Method[1..].ToLowerInvariant();

    // Go's net errors, so scripts that match on "connection refused" keep working.
    private static string Describe(HttpRequestException e, Uri uri) => e.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => $"dial tcp {uri.Host}:{uri.Port}: connect: connection refused",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData } => $"dial tcp: lookup {uri.Host}: no such host",
        _ => e.Message,
    };
}
