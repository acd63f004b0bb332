using System.Text;
using Cluster.Agent.Checks;
using Cluster.Agent.Config;
using Cluster.Testing;
using Microsoft.AspNetCore.Http;

namespace Cluster.Tests.Checks;

/// <summary>The HTTP check against real Kestrel servers on loopback.</summary>
public sealed class HttpCheckTests
{
    private static CheckDefinition Http(string url) => new() { Name = "web", Http = url, Interval = TimeSpan.FromSeconds(10) };

    private static async Task<CheckResult> RunOnceAsync(CheckDefinition definition, CheckOptions? options = null)
    {
        using var factory = new CheckMonitorFactory(options ?? new CheckOptions());
        using var probe = factory.CreateProbe(definition);
        return await probe.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(200, "passing", "200 OK")]
    [InlineData(204, "passing", "204 No Content")]
    [InlineData(429, "warning", "429 Too Many Requests")]
    [InlineData(500, "critical", "500 Internal Server Error")]
    [InlineData(404, "critical", "404 Not Found")]
    public async Task The_status_code_decides_and_the_output_is_Consuls(int code, string status, string line)
    {
        await using var server = await TargetServer.StartAsync(async context =>
        {
            context.Response.StatusCode = code;
            if (code != 204)
            {
                await context.Response.WriteAsync("body text");
            }
        });
        var url = server.Url("/health");

        var result = await RunOnceAsync(Http(url));

        var body = code == 204 ? "" : "body text";
        Assert.Equal(new CheckResult(status, $"HTTP GET {url}: {line} Output: {body}"), result);
    }

    [Fact]
    public async Task Method_headers_and_body_are_sent_and_the_defaults_are_Consuls()
    {
        string? seen = null;
        await using var server = await TargetServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var headers = context.Request.Headers;
            seen = $"{context.Request.Method} {await reader.ReadToEndAsync()} ua={headers.UserAgent} accept={headers.Accept} x={headers["X-Probe"]} ct={headers.ContentType} host={headers.Host} conn={headers.Connection}";
        });
        var definition = Http(server.Url("/")) with
        {
            Method = "POST",
            Body = "{\"ping\":1}",
            Header = ValueDictionary.From<ValueList<string>>([
                new("X-Probe", ["a", "b"]),
                new("Content-Type", ["application/json"]),
                new("Host", ["web.internal"]),
            ]),
        };

        var result = await RunOnceAsync(definition);

        Assert.Equal(CheckStatus.Passing, result.Status);
        Assert.StartsWith($"HTTP POST {server.Url("/")}: 200 OK", result.Output, StringComparison.Ordinal);
        Assert.Equal("POST {\"ping\":1} ua=Consul Health Check accept=text/plain, text/*, */* x=a, b ct=application/json host=web.internal conn=close", seen);
    }

    [Fact]
    public async Task A_redirect_is_reported_critical_and_its_location_is_never_fetched()
    {
        await using var elsewhere = await TargetServer.StartAsync(context => context.Response.WriteAsync("internal secrets"));
        await using var server = await TargetServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = elsewhere.Url("/metadata");
            return Task.CompletedTask;
        });

        var result = await RunOnceAsync(Http(server.Url("/health")));

        Assert.Equal(CheckResult.Critical($"HTTP GET {server.Url("/health")}: 302 Found Output: "), result);
        Assert.Equal(1, server.Hits);
        Assert.Equal(0, elsewhere.Hits);
    }

    [Fact]
    public async Task A_long_body_is_cut_to_the_output_limit_without_splitting_a_character()
    {
        // 'é' is two bytes: 9 of them are 18 bytes, so a 16-byte limit falls after 8.
        await using var server = await TargetServer.StartAsync(context => context.Response.WriteAsync(new string('é', 5000)));

        var result = await RunOnceAsync(Http(server.Url("/")), new CheckOptions { OutputMaxSize = 17 });

        Assert.EndsWith("Output: éééééééé ... (truncated to 16 bytes)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_is_critical_with_the_error()
    {
        var url = $"http://127.0.0.1:{Loopback.ClosedPort()}/health";

        var result = await RunOnceAsync(Http(url));

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.StartsWith($"HTTP GET {url}: Connection refused", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_skip_verify_accepts_a_self_signed_certificate_that_is_refused_otherwise()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var server = await TargetServer.StartAsync(context => context.Response.WriteAsync("secure"), certificate);
        var definition = Http(server.Url("/"));

        var refused = await RunOnceAsync(definition);
        var accepted = await RunOnceAsync(definition with { TlsSkipVerify = true });

        Assert.Equal(CheckStatus.Critical, refused.Status);
        Assert.Contains("SSL", refused.Output, StringComparison.Ordinal);
        Assert.Equal(CheckResult.Passing($"HTTP GET {server.Url("/")}: 200 OK Output: secure"), accepted);
    }

    [Fact]
    public async Task A_server_slower_than_the_timeout_is_critical_when_the_clock_reaches_it()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TargetServer.StartAsync(async context =>
        {
            arrived.TrySetResult();
            await release.Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        var clock = new ManualTimeProvider();
        var updates = new Updates();
        using var factory = new CheckMonitorFactory(new CheckOptions { TimeProvider = clock, Random = new Random(3) });
        var definition = Http(server.Url("/slow")) with { Timeout = TimeSpan.FromSeconds(2) };
        await using var monitor = (IntervalCheckMonitor)factory.Create(definition, updates.Callback);
        monitor.Start();

        clock.Advance(monitor.Stagger);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(new CheckStatusUpdate("web", CheckStatus.Critical, $"HTTP GET {server.Url("/slow")}: timed out after 2s"), await updates.NextAsync());
        release.SetResult();
    }

    [Theory]
    [InlineData("ftp://example.com/")]
    [InlineData("/relative")]
    public void Only_absolute_http_urls_are_checked(string url)
    {
        using var factory = new CheckMonitorFactory(new CheckOptions());
        var error = Assert.Throws<InvalidCheckException>(() => factory.Create(Http(url), _ => { }));
        Assert.Contains("http:// or https://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ttl_check_has_no_monitor()
    {
        using var factory = new CheckMonitorFactory(new CheckOptions());
        Assert.False(CheckMonitorFactory.IsMonitored(CheckKind.Ttl));
        Assert.Throws<InvalidCheckException>(() => factory.Create(new CheckDefinition { Name = "t", Ttl = TimeSpan.FromSeconds(5) }, _ => { }));
    }

    [Fact]
    public void Output_helpers_keep_valid_utf8_at_either_end()
    {
        var bytes = Encoding.UTF8.GetBytes("aé€b"); // 1 + 2 + 3 + 1 bytes
        Assert.Equal("aé ... (truncated to 3 bytes)", BoundedOutput.Head(bytes, 5));
        Assert.Equal("aé€b", BoundedOutput.Head(bytes, 7));
        Assert.Equal("Captured 1 of 7 bytes\n...\nb", BoundedOutput.Tail(bytes.AsSpan(5), 7));
        Assert.Equal("Captured 4 of 7 bytes\n...\n€b", BoundedOutput.Tail(bytes.AsSpan(3), 7));
    }
}
