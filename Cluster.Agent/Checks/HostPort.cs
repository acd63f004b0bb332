using System.Globalization;

namespace Cluster.Agent.Checks;

/// <summary>A "host:port" check target; IPv6 hosts in brackets ("[::1]:8080").</summary>
internal readonly record struct HostPort(string Host, int Port)
{
    public static HostPort Parse(string text, string checkId, string field)
    {
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (host.Length == 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new InvalidCheckException($"Check {checkId}: {field} must be host:port, not \"{text}\"");
        }

        return new HostPort(host, port);
    }

    /// <summary>As written in URLs and outputs: brackets around an IPv6 host.</summary>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
