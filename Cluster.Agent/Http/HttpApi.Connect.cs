using System.Text;
using Cluster.Server.Query;
using Microsoft.AspNetCore.Http;

namespace Cluster.Agent.Http;

/// <summary>
/// Connect's CA: /v1/connect/ca/roots and /configuration (through the servers), and the agent's
/// cached roots and leaves (/v1/agent/connect/ca/roots, /leaf/&lt;service&gt;), blocking on their index.
/// </summary>
public sealed partial class HttpApi
{
    private static readonly TimeSpan FirstLeafWait = TimeSpan.FromSeconds(15);

    private void MapConnectCa()
    {
        Map("GET", "/v1/connect/ca/roots", CaRootsAsync);
        Map("GET,PUT", "/v1/connect/ca/configuration", CaConfigurationAsync);
        Map("GET", "/v1/agent/connect/ca/roots", AgentCaRootsAsync);
        Map("GET", "/v1/agent/connect/ca/leaf/*", AgentLeafAsync);
    }

    private async Task CaRootsAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var read = await QueryAsync(request, new CaQuery());
        var ca = read.Result ?? throw new ApiException(StatusCodes.Status500InternalServerError, "the Connect CA is not initialized yet");
        if (IsTrue(request.Query("pem")))
        {
            request.Http.Response.ContentType = "application/pem-certificate-chain";
            await request.Http.Response.WriteAsync(string.Concat(ca.Roots.Select(r => r.RootCert.EndsWith('\n') ? r.RootCert : r.RootCert + "\n")), Encoding.UTF8, request.Aborted);
            return;
        }

        await request.WriteJsonAsync(CaJson.Roots(ca));
    }

    private async Task CaConfigurationAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        if (request.Method == "PUT")
        {
            var configure = CaJson.ConfigureRequest((await request.JsonBodyAsync())!);
            await Node.Servers.ConfigureCaAsync(configure, request.Aborted);
            request.Http.Response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        var read = await QueryAsync(request, new CaQuery());
        var ca = read.Result ?? throw new ApiException(StatusCodes.Status500InternalServerError, "the Connect CA is not initialized yet");
        await request.WriteJsonAsync(CaJson.Configuration(ca.Config));
    }

    private async Task AgentCaRootsAsync(ApiRequest request)
    {
        var minIndex = request.QueryUInt64("index");
        var roots = await Connect.Roots.WaitAsync(minIndex, minIndex > 0 ? request.Wait : FirstLeafWait, request.Aborted)
            ?? throw new ApiException(StatusCodes.Status500InternalServerError, "the agent has not read the CA roots yet (no server answered, or the CA is not initialized)");
        request.SetIndex(roots.Index);
        await request.WriteJsonAsync(CaJson.Roots(roots.Ca));
    }

    private async Task AgentLeafAsync(ApiRequest request)
    {
        var service = request.Rest;
        if (service.Length == 0 || service.Contains('/', StringComparison.Ordinal))
        {
            throw ApiException.BadRequest("a leaf is asked for by service name: /v1/agent/connect/ca/leaf/<service>");
        }

        if (!Cluster.Server.Connect.SpiffeId.TryParse($"spiffe://x/ns/default/dc/{Datacenter}/svc/{service}", out _))
        {
            throw ApiException.BadRequest($"invalid service name \"{service}\": letters, digits, '-', '_' and '.' only");
        }

        var minIndex = request.QueryUInt64("index");
        var leaf = await Connect.Leaves.WaitAsync(service, minIndex, minIndex > 0 ? request.Wait : FirstLeafWait, request.Aborted);
        request.SetIndex(leaf.Index);
        await request.WriteJsonAsync(CaJson.Leaf(leaf));
    }

    private static bool IsTrue(string? flag) => flag is not null && (flag.Length == 0 || flag.Equals("true", StringComparison.OrdinalIgnoreCase) || flag == "1");
}
