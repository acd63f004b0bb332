using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Cluster.Testing.Linearizability;

namespace Cluster.Testing.Jepsen;

/// <summary>What one KV call came to: its status for the history, the value read and the key's ModifyIndex.</summary>
public sealed record KvOutcome(OpStatus Status, bool Succeeded, string? Value, ulong ModifyIndex, string Error = "")
{
    public static KvOutcome Failed(string error) => new(OpStatus.Failed, false, null, 0, error);

    public static KvOutcome Unknown(string error) => new(OpStatus.Unknown, false, null, 0, error);
}

/// <summary>
/// One client's connection to one server's HTTP API (Consul's /v1/kv and /v1/session), with each
/// outcome classified the way a history needs it: a request that never reached the server
/// failed; one that may have (a timeout, a connection lost after sending, a 5xx on a write) is
/// unknown; a read that did not answer simply did nothing.
/// </summary>
public sealed class KvClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public KvClient(Uri server, TimeSpan timeout)
    {
        _timeout = timeout;
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), MaxConnectionsPerServer = 1 };
        _http = new HttpClient(handler) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>GET a key; <paramref name="mode"/> is "" (default), "consistent" or "stale". Value is the stored value, or the lock's session when <paramref name="session"/>.</summary>
    public async Task<KvOutcome> ReadAsync(string key, string mode, bool session)
    {
        var (outcome, body) = await SendAsync(HttpMethod.Get, $"/v1/kv/{key}{(mode.Length > 0 ? "?" + mode : "")}", null, write: false);
        if (outcome is not null)
        {
            return outcome;
        }

        if (body is null)
        {
            return new KvOutcome(OpStatus.Ok, true, null, 0); // 404: absent
        }

        using var json = JsonDocument.Parse(body);
        var entry = json.RootElement[0];
        var modifyIndex = entry.GetProperty("ModifyIndex").GetUInt64();
        if (session)
        {
            var holder = entry.TryGetProperty("Session", out var s) && s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0 ? s.GetString() : null;
            return new KvOutcome(OpStatus.Ok, true, holder, modifyIndex);
        }

        var value = entry.GetProperty("Value") is { ValueKind: JsonValueKind.String } v ? Encoding.UTF8.GetString(v.GetBytesFromBase64()) : "";
        return new KvOutcome(OpStatus.Ok, true, value, modifyIndex);
    }

    /// <summary>PUT a key with an optional query (<c>cas=N</c>, <c>acquire=ID</c>, <c>release=ID</c>); Succeeded is the server's true/false.</summary>
    public async Task<KvOutcome> PutAsync(string key, string query, string value)
    {
        var (outcome, body) = await SendAsync(HttpMethod.Put, $"/v1/kv/{key}{(query.Length > 0 ? "?" + query : "")}", value, write: true);
        return outcome ?? (body?.Trim() switch
        {
            "true" => new KvOutcome(OpStatus.Ok, true, null, 0),
            "false" => new KvOutcome(OpStatus.Ok, false, null, 0),
            _ => KvOutcome.Unknown($"unexpected answer '{body}'"),
        });
    }

    /// <summary>Creates a session with no health checks (only an explicit release or destroy ends its locks); null if the outcome is not known.</summary>
    public async Task<string?> CreateSessionAsync(string name)
    {
        var request = $$"""{"Name":"{{name}}","Checks":[],"NodeChecks":[],"LockDelay":"0s","Behavior":"release"}""";
        var (outcome, body) = await SendAsync(HttpMethod.Put, "/v1/session/create", request, write: true);
        if (outcome is not null || body is null)
        {
            return null;
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("ID").GetString();
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Sends; returns an outcome when the call did not answer 200, else the body (null for a 404 read).</summary>
    private async Task<(KvOutcome? Outcome, string? Body)> SendAsync(HttpMethod method, string path, string? content, bool write)
    {
        using var request = new HttpRequestMessage(method, path);
        if (content is not null)
        {
            request.Content = new StringContent(content);
        }

        // Not tied to the run's end: an operation in flight when the run stops finishes or times out, so it is recorded truly.
        using var timeout = new CancellationTokenSource(_timeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (null, body);
            }

            if (response.StatusCode == HttpStatusCode.NotFound && !write)
            {
                return (null, null);
            }

            var error = $"{(int)response.StatusCode}: {body.Trim()}";
            // A write the server could not confirm may still commit; a refused request (4xx) did nothing.
            return ((int)response.StatusCode >= 500 && write ? KvOutcome.Unknown(error) : KvOutcome.Failed(error), null);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError || e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return (KvOutcome.Failed($"not connected: {e.Message}"), null); // nothing was sent
        }
        catch (HttpRequestException e)
        {
            return (KvOutcome.Unknown($"lost: {e.Message}"), null);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // The handler lets a few socket errors through unwrapped (a connection reset just as it
            // opened); where in the exchange they came from is not said, so the outcome is unknown.
            return (KvOutcome.Unknown($"lost: {e.GetType().Name}: {e.Message}"), null);
        }
        catch (OperationCanceledException)
        {
            return (KvOutcome.Unknown("timed out"), null);
        }
    }
}
