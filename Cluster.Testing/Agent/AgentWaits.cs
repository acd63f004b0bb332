using System.Text.Json;

namespace Cluster.Testing.Agent;

/// <summary>
/// Waits that follow an agent's own blocking queries: ?index for catalog paths, ?hash for
/// /v1/agent/ paths. Each turn returns when the answer changes (or its wait runs out), so
/// nothing polls on a timer.
/// </summary>
public static class AgentWaits
{
    /// <summary>The cluster's Connect trust domain once the leader has made the CA (read through this agent).</summary>
    public static async Task<string> TrustDomainAsync(HttpClient http, TimeSpan timeout)
    {
        using var roots = await UntilAsync(http, "/v1/connect/ca/roots", json => json.TryGetProperty("TrustDomain", out var domain) && domain.GetString()?.Length > 0, timeout);
        return roots.RootElement.GetProperty("TrustDomain").GetString()!;
    }

    /// <summary>Follows <paramref name="path"/> until its JSON satisfies <paramref name="done"/> (errors and 404 count as not yet).</summary>
    public static async Task<JsonDocument> UntilAsync(HttpClient http, string path, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(done);
        using var cts = new CancellationTokenSource(timeout);
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var hashed = path.StartsWith("/v1/agent/", StringComparison.Ordinal);
        var marker = hashed ? "" : "0";
        string? last = null;
        try
        {
            while (true)
            {
                var query = hashed ? (marker.Length > 0 ? $"hash={marker}&wait=5s" : "") : $"index={marker}&wait=5s";
                HttpResponseMessage response;
                try
                {
                    response = await http.GetAsync(query.Length > 0 ? $"{path}{separator}{query}" : path, cts.Token);
                }
                catch (HttpRequestException e)
                {
                    last = e.Message;
                    if (cts.IsCancellationRequested)
                    {
                        break;
                    }

                    // The agent is not answering (restarting): its next launch is what to wait for.
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cts.Token);
                    continue;
                }

                using (response)
                {
                    var header = hashed ? "X-Consul-ContentHash" : "X-Consul-Index";
                    var next = response.Headers.TryGetValues(header, out var values) ? values.First() : null;
                    last = await response.Content.ReadAsStringAsync(cts.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        var json = JsonDocument.Parse(last);
                        if (done(json.RootElement))
                        {
                            return json;
                        }

                        json.Dispose();
                    }

                    if (next == marker || next is null)
                    {
                        // An error answer does not block: wait for the cluster rather than spin.
                        await Task.Delay(TimeSpan.FromMilliseconds(200), cts.Token);
                    }

                    marker = next ?? (hashed ? "" : "0");
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The time ran out inside a request or a pause: report it as the timeout it is, with what the agent last said.
        }

        throw new TimeoutException($"{path} never matched within {timeout}; last answer: {last}");
    }
}
