using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Contracts;
using Cluster.Server.Nodes;
using Microsoft.AspNetCore.Http;

namespace Cluster.Agent.Http;

/// <summary>An HTTP error in Consul's shape: a status and a plain-text message.</summary>
public sealed class ApiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    public static ApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static ApiException NotFound(string message) => new(StatusCodes.Status404NotFound, message);
}

/// <summary>One request's parsed parameters and the helpers every endpoint uses to answer.</summary>
public sealed class ApiRequest(HttpContext http, string rest)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
    };

    private static readonly JsonNodeOptions CaseInsensitive = new() { PropertyNameCaseInsensitive = true };

    public HttpContext Http { get; } = http;

    /// <summary>The path after the route's prefix (a KV key, a service name, an id).</summary>
    public string Rest { get; } = rest;

    public string Method => Http.Request.Method;

    public CancellationToken Aborted => Http.RequestAborted;

    public bool Has(string name) => Http.Request.Query.ContainsKey(name);

    public string? Query(string name) => Http.Request.Query.TryGetValue(name, out var values) ? values.ToString() : null;

    public ulong QueryUInt64(string name, ulong fallback = 0)
    {
        var text = Query(name);
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiException.BadRequest($"Invalid {name} value: \"{text}\" is not a non-negative integer");
    }

    public Consistency Consistency
    {
        get
        {
            if (Has("stale") && Has("consistent"))
            {
                throw ApiException.BadRequest("Cannot specify ?stale with ?consistent, conflicting semantics.");
            }

            return Has("stale") ? Consistency.Stale : Has("consistent") ? Consistency.Consistent : Consistency.Default;
        }
    }

    /// <summary>The ?wait of a blocking query: Go duration or bare seconds; 5 minutes by default (and for zero or less), 10 at most.</summary>
    public TimeSpan Wait
    {
        get
        {
            var text = Query("wait");
            if (string.IsNullOrEmpty(text))
            {
                return TimeSpan.FromMinutes(5);
            }

            if (!GoDuration.TryParse(text, out var wait) && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && (wait = TimeSpan.FromSeconds(seconds)) >= TimeSpan.Zero))
            {
                throw ApiException.BadRequest($"Invalid wait time: \"{text}\"");
            }

            // As Consul's rpcQueryTimeout: no positive wait means the default, never "do not block".
            return wait > TimeSpan.FromMinutes(10) ? TimeSpan.FromMinutes(10) : wait <= TimeSpan.Zero ? TimeSpan.FromMinutes(5) : wait;
        }
    }

    public async Task<byte[]> BodyAsync(int limit)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await Http.Request.Body.ReadAsync(chunk, Aborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ApiException(StatusCodes.Status413RequestEntityTooLarge, $"Request body too large, max size: {limit} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The body as a JSON object (or null when empty and <paramref name="optional"/>); malformed JSON is a 400 naming the problem.</summary>
    public async Task<JsonObject?> JsonBodyAsync(bool optional = false, int limit = 1 << 20)
    {
        var body = await BodyAsync(limit);
        if (body.Length == 0 || body.All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
        {
            return optional ? null : throw ApiException.BadRequest("Request decode failed: missing body");
        }

        return Parse(body) as JsonObject ?? throw ApiException.BadRequest("Request decode failed: expected a JSON object");
    }

    public async Task<JsonArray> JsonArrayBodyAsync(int limit) =>
        Parse(await BodyAsync(limit)) as JsonArray ?? throw ApiException.BadRequest("Request decode failed: expected a JSON array");

    /// <summary>
    /// A body read as Go's decoder reads it: names match case-insensitively and a name repeated (in
    /// any case) keeps its last value. Built eagerly, so a repeated name or a string that is not
    /// valid UTF-16 (a lone surrogate escape) is a 400 here, not an exception at first use.
    /// </summary>
    private static JsonNode? Parse(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return ToNode(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw ApiException.BadRequest($"Request decode failed: {e.Message}");
        }
    }

    private static JsonNode? ToNode(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject(CaseInsensitive);
                foreach (var property in element.EnumerateObject())
                {
                    obj[property.Name] = ToNode(property.Value);
                }

                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray(CaseInsensitive);
                foreach (var item in element.EnumerateArray())
                {
                    array.Add(ToNode(item));
                }

                return array;
            case JsonValueKind.String:
                return JsonValue.Create(element.GetString());
            case JsonValueKind.Null:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }

    public Task WriteJsonAsync(object? value, int status = StatusCodes.Status200OK)
    {
        Http.Response.StatusCode = status;
        Http.Response.ContentType = "application/json";
        var bytes = value is JsonNode node ? Encoding.UTF8.GetBytes(node.ToJsonString()) : JsonSerializer.SerializeToUtf8Bytes(value, Json);
        Http.Response.ContentLength = bytes.Length;
        return Http.Response.Body.WriteAsync(bytes, Aborted).AsTask();
    }

    public Task WriteTextAsync(string text, int status = StatusCodes.Status200OK)
    {
        Http.Response.StatusCode = status;
        Http.Response.ContentType = "text/plain; charset=utf-8";
        return Http.Response.WriteAsync(text, Aborted);
    }

    /// <summary>Consul's query-meta headers.</summary>
    public void SetIndex(ulong index) => Http.Response.Headers["X-Consul-Index"] = index.ToString(CultureInfo.InvariantCulture);

    public void SetLeaderHeaders(bool knownLeader, TimeSpan lastContact)
    {
        Http.Response.Headers["X-Consul-KnownLeader"] = knownLeader ? "true" : "false";
        Http.Response.Headers["X-Consul-LastContact"] = ((long)lastContact.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
    }
}
