using Cluster.Agent.Client;
using Cluster.Server.Core;
using Cluster.Contracts.State;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Cluster.Agent.Http;

/// <summary>
/// Client agents answer everything but /v1/agent/ through a server: the request travels whole
/// (method, raw target, headers, body) over the server RPC and the server's own API answers it,
/// so blocking queries, consistency modes and errors behave exactly as they do on a server.
/// </summary>
public sealed partial class HttpApi
{
    /// <summary>Headers that belong to one HTTP hop, not to the request.</summary>
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Content-Length", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Expect", "Proxy-Connection",
    };

    private async Task ForwardAsync(HttpContext http)
    {
        var client = (ClientNode)Node;
        try
        {
            var forward = new HttpForward
            {
                AgentNode = client.NodeName,
                Method = http.Request.Method,
                Target = http.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : http.Request.Path + http.Request.QueryString,
            };
            foreach (var (name, values) in http.Request.Headers)
            {
                if (!HopByHop.Contains(name))
                {
                    foreach (var value in values)
                    {
                        forward.Headers.Add(new HttpHeader { Name = name, Value = value ?? "" });
                    }
                }
            }

            using (var body = new MemoryStream())
            {
                await http.Request.Body.CopyToAsync(body, http.RequestAborted);
                forward.Body = ByteString.CopyFrom(body.GetBuffer(), 0, (int)body.Length);
            }

            var reply = await client.ForwardHttpAsync(forward, http.RequestAborted);
            http.Response.StatusCode = reply.Status;
            foreach (var header in reply.Headers)
            {
                if (!HopByHop.Contains(header.Name))
                {
                    http.Response.Headers.Append(header.Name, header.Value);
                }
            }

            http.Response.ContentLength = reply.Body.Length;
            await http.Response.Body.WriteAsync(reply.Body.Memory, http.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(http, e.StatusCode, e.Message);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NoLeaderException or global::Grpc.Core.RpcException)
        {
            await WriteErrorAsync(http, StatusCodes.Status500InternalServerError, e is global::Grpc.Core.RpcException rpc ? rpc.Status.Detail : e.Message);
        }
    }

    /// <summary>Answers a request a client agent forwarded, as if it had arrived here over HTTP.</summary>
    public async Task<HttpForwardReply> AnswerForwardedAsync(HttpForward request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = request.Target.Length > 0 && request.Target[0] == '/' ? request.Target : "/" + request.Target;
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var headers = new HeaderDictionary();
        foreach (var header in request.Headers)
        {
            headers.Append(header.Name, header.Value);
        }

        headers.ContentLength = request.Body.Length;
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Protocol = "HTTP/1.1",
            Scheme = "http",
            Method = request.Method,
            Path = Uri.UnescapeDataString(path),
            QueryString = question < 0 ? "" : target[question..],
            RawTarget = target,
            Headers = headers,
            Body = new MemoryStream(request.Body.ToByteArray(), writable: false),
        });
        var response = new HttpResponseFeature();
        using var body = new MemoryStream();
        features.Set<IHttpResponseFeature>(response);
        var bodyFeature = new StreamResponseBodyFeature(body);
        features.Set<IHttpResponseBodyFeature>(bodyFeature);
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = cancellationToken });
        var context = new DefaultHttpContext(features);
        if (request.AgentNode.Length > 0)
        {
            context.Items[ApiRequest.AgentNodeItem] = request.AgentNode;
        }

        await HandleAsync(context);
        await bodyFeature.CompleteAsync(); // flushes what a handler wrote through BodyWriter
        var reply = new HttpForwardReply { Status = response.StatusCode, Body = ByteString.CopyFrom(body.GetBuffer(), 0, (int)body.Length) };
        foreach (var (name, values) in response.Headers)
        {
            foreach (var value in values)
            {
                reply.Headers.Add(new HttpHeader { Name = name, Value = value ?? "" });
            }
        }

        return reply;
    }
}
