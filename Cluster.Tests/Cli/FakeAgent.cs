using System.Collections.Concurrent;
using System.Text;
using Cluster.Cli;
using Cluster.Tests.Grpc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cluster.Tests.Cli;

/// <summary>One request as the fake agent received it: the raw target (path and query as sent), headers and body.</summary>
public sealed record AgentRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Token => Headers.TryGetValue("X-Consul-Token", out var token) ? token : null;

    public override string ToString() => $"{Method} {Target}";
}

/// <summary>
/// A real HTTP server on 127.0.0.1 standing in for an agent's Consul HTTP API: it answers each
/// "METHOD /path" with the canned status and body the test set (404 and no body otherwise, as
/// the KV store answers a missing key) and records every request, so tests assert exactly what
/// the CLI sent.
/// </summary>
public sealed class FakeAgent : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<AgentRequest> _requests = new();
    private RawServer? _server;

    public string Address => $"127.0.0.1:{_server!.Address.Port}";

    public IReadOnlyList<AgentRequest> Requests => [.. _requests];

    /// <summary>The one request the CLI made (fails the test if it made none or several).</summary>
    public AgentRequest Request => Assert.Single(_requests);

    public static async Task<FakeAgent> StartAsync()
    {
        var agent = new FakeAgent();
        agent._server = await RawServer.StartAsync(agent.HandleAsync, HttpProtocols.Http1);
        return agent;
    }

    /// <summary>Answers <paramref name="method"/> on <paramref name="path"/> (without query) with this status and body.</summary>
    public FakeAgent Answer(string method, string path, string body, int status = 200)
    {
        _answers[$"{method} {path}"] = (status, body);
        return this;
    }

    /// <summary>Runs `cluster ARGS` in-process against this agent (CONSUL_HTTP_ADDR points here unless the test sets it).</summary>
    public Task<CliRun> RunAsync(params string[] args) => RunAsync(stdin: [], args);

    /// <summary>As <see cref="RunAsync(string[])"/>, with these bytes on stdin.</summary>
    public Task<CliRun> RunAsync(byte[] stdin, params string[] args) =>
        CliRun.RunAsync(args, new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = Address }, stdin);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _requests.Enqueue(new AgentRequest(context.Request.Method, target, headers, body));
        var path = target.Split('?')[0];
        var (status, answer) = _answers.TryGetValue($"{context.Request.Method} {path}", out var canned) ? canned : (404, "");
        context.Response.StatusCode = status;
        await context.Response.WriteAsync(answer);
    }
}

/// <summary>The outcome of one in-process `cluster` run.</summary>
public sealed record CliRun(int Exit, string Stdout, string Stderr)
{
    public static async Task<CliRun> RunAsync(string[] args, IReadOnlyDictionary<string, string> variables, byte[]? stdin = null)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        using var input = new MemoryStream(stdin ?? []);
        var exit = await CommandLine.RunAsync(args, new CliEnvironment(stdout, stderr, input, name => variables.GetValueOrDefault(name)));
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }
}
