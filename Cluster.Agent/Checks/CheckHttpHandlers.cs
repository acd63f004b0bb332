using System.Net;
using System.Net.Security;

namespace Cluster.Agent.Checks;

/// <summary>
/// The agent's HTTP connections for checks: SocketsHttpHandlers that verify certificates and
/// ones for <c>tls_skip_verify</c>, each made on first use and shared by every HTTP check (or
/// every gRPC check: HTTP checks close their connections, gRPC's HTTP/2 ones are kept). Redirects are never followed (CVE-2022-29153: a check that follows a Location lets
/// whoever answers it make the agent fetch any address), and there are no cookies or proxy.
/// </summary>
internal sealed class CheckHttpHandlers : IDisposable
{
    private readonly Lazy<HttpMessageInvoker> _verifying = new(() => new HttpMessageInvoker(Create(skipVerify: false), disposeHandler: true));
    private readonly Lazy<HttpMessageInvoker> _skipVerify = new(() => new HttpMessageInvoker(Create(skipVerify: true), disposeHandler: true));
    private readonly Lazy<SocketsHttpHandler> _grpcVerifying = new(() => Create(skipVerify: false));
    private readonly Lazy<SocketsHttpHandler> _grpcSkipVerify = new(() => Create(skipVerify: true));

    /// <summary>For HTTP checks.</summary>
    public HttpMessageInvoker Get(bool skipVerify) => skipVerify ? _skipVerify.Value : _verifying.Value;

    /// <summary>For gRPC checks' channels (which do not dispose it).</summary>
    public HttpMessageHandler Handler(bool skipVerify) => skipVerify ? _grpcSkipVerify.Value : _grpcVerifying.Value;

    public void Dispose()
    {
        Dispose(_verifying);
        Dispose(_skipVerify);
        Dispose(_grpcVerifying);
        Dispose(_grpcSkipVerify);
    }

    private static void Dispose<T>(Lazy<T> lazy)
        where T : IDisposable
    {
        if (lazy.IsValueCreated)
        {
            lazy.Value.Dispose();
        }
    }

    private static SocketsHttpHandler Create(bool skipVerify)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Each run's timeout cancels it; no second clock.
            ConnectTimeout = Timeout.InfiniteTimeSpan,
        };
        if (skipVerify)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
#pragma warning disable CA5359 // tls_skip_verify: the operator asked for exactly this.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
            };
        }

        return handler;
    }
}
