namespace Legacy.Actors;

/// <summary>
/// Where an actor system lives: its name and, once remoting is on, the host and port of its
/// remoting endpoint. A system without remoting has no host.
/// </summary>
public sealed record Address(string System, string? Host = null, int Port = 0)
{
    public const string Scheme = "cluster";

    public bool HasHost => Host is not null;

    public override string ToString() =>
        Host is null ? $"{Scheme}://{System}" : $"{Scheme}://{System}@{FormatHost(Host)}:{Port}";

    /// <summary>Parses <c>cluster://system</c> or <c>cluster://system@host:port</c>.</summary>
    public static Address Parse(string text)
    {
        if (!TryParse(text, out var address, out var rest) || rest.Length != 0)
        {
            throw new FormatException($"'{text}' is not an actor system address (cluster://system@host:port)");
        }

        return address;
    }

    internal static bool TryParse(string text, out Address address, out string rest)
    {
        address = null!;
        rest = "";
        var prefix = Scheme + "://";
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var body = text.AsSpan(prefix.Length);
        var slash = body.IndexOf('/');
        var authority = slash < 0 ? body : body[..slash];
        rest = slash < 0 ? "" : body[slash..].ToString();
        var at = authority.IndexOf('@');
        if (at < 0)
        {
            if (authority.IsEmpty)
            {
                return false;
            }

            address = new Address(authority.ToString());
            return true;
        }

        var system = authority[..at];
        var hostPort = authority[(at + 1)..];
        var colon = hostPort.LastIndexOf(':');
        if (system.IsEmpty || colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], out var port) || port is < 0 or > 65535)
        {
            return false;
        }

        var host = hostPort[..colon];
        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        address = new Address(system.ToString(), host.ToString(), port);
        return true;
    }

    private static string FormatHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
}
