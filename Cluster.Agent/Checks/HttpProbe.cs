using Cluster.Contracts;
using System.Net;
using Cluster.Agent.Config;
using Microsoft.AspNetCore.WebUtilities;

namespace Cluster.Agent.Checks;

/// <summary>
/// Consul's HTTP check: 2xx is passing, 429 (Too Many Requests) warning, anything else critical,
/// with the output "HTTP GET url: 200 OK Output: body". A 3xx is reported as it is, critical;
/// its Location is never fetched.
/// </summary>
internal sealed class HttpProbe : ICheckProbe
{
    /// <summary>Headers .NET keeps on the content, not the request.</summary>
    private static readonly HashSet<string> ContentHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Allow", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
        "Content-Location", "Content-MD5", "Content-Range", "Content-Type", "Expires", "Last-Modified",
    };

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _url;
    private readonly HttpMethod _method;
    private readonly ValueDictionary<ValueList<string>> _headers;
    private readonly byte[]? _body;
    private readonly TimeSpan _timeout;
    private readonly int _outputMaxSize;

    public HttpProbe(CheckDefinition definition, HttpMessageInvoker invoker, TimeSpan timeout, int outputMaxSize)
    {
        if (!Uri.TryCreate(definition.Http, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidCheckException($"Check {definition.Id}: http must be an http:// or https:// URL, not \"{definition.Http}\"");
        }

        _url = url;
        _method = new HttpMethod(string.IsNullOrEmpty(definition.Method) ? "GET" : definition.Method);
        _headers = definition.Header;
        using var trial = new HttpRequestMessage();
        foreach (var name in _headers.Keys)
        {
            if (!ContentHeaders.Contains(name) && !trial.Headers.TryAddWithoutValidation(name, "x"))
            {
                throw new InvalidCheckException($"Check {definition.Id}: \"{name}\" is not a header name an HTTP request can carry");
            }
        }

        _body = definition.Body is { } body ? System.Text.Encoding.UTF8.GetBytes(body) : null;
        _invoker = invoker;
        _timeout = timeout;
        _outputMaxSize = outputMaxSize;
    }

    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var target = $"HTTP {_method} {_url}";
        try
        {
            using var request = NewRequest();
            using var response = await _invoker.SendAsync(request, cancellationToken);
            var body = await ReadBodyAsync(response.Content, cancellationToken);
            var code = (int)response.StatusCode;
            var reason = response.ReasonPhrase is { Length: > 0 } phrase ? phrase : ReasonPhrases.GetReasonPhrase(code);
            var output = $"{target}: {code} {reason} Output: {body}";
            return code switch
            {
                >= 200 and <= 299 => CheckResult.Passing(output),
                (int)HttpStatusCode.TooManyRequests => CheckResult.Warning(output),
                _ => CheckResult.Critical(output),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return CheckResult.Critical($"{target}: timed out after {GoDuration.Format(_timeout)}");
        }
        catch (HttpRequestException ex)
        {
            return CheckResult.Critical($"{target}: {ex.Message}");
        }
    }

    public void Dispose()
    {
        // The invoker is the agent's, shared.
    }

    private HttpRequestMessage NewRequest()
    {
        var request = new HttpRequestMessage(_method, _url);
        // Consul's probe does not keep connections: every run shows whether new ones are accepted.
        request.Headers.ConnectionClose = true;
        request.Headers.TryAddWithoutValidation("User-Agent", "Consul Health Check");
        request.Headers.TryAddWithoutValidation("Accept", "text/plain, text/*, */*");
        if (_body is not null)
        {
            request.Content = new ByteArrayContent(_body);
        }

        foreach (var (name, values) in _headers)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Host = values.Count > 0 ? values[0] : null;
                continue;
            }

            if (ContentHeaders.Contains(name))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, values);
            }
            else
            {
                // Configured headers replace the defaults above.
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, values);
            }
        }

        return request;
    }

    /// <summary>The start of the body, reading no more than the output can hold.</summary>
    private async Task<string> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[_outputMaxSize + 1];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return BoundedOutput.Head(buffer.AsSpan(0, filled), _outputMaxSize);
    }
}
