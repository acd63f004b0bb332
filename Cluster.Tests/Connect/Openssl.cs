using System.Diagnostics;
using System.Globalization;

namespace Cluster.Tests.Connect;

/// <summary>openssl as the independent judge of our certificates: verify a leaf against trusted roots (and untrusted intermediates) at a given time.</summary>
public static class Openssl
{
    /// <summary>"OK", or openssl's complaint.</summary>
    public static string Verify(string trustedPem, string leafPem, string? untrustedPem, DateTimeOffset at)
    {
        var dir = Directory.CreateTempSubdirectory("openssl-").FullName;
        try
        {
            var root = Path.Combine(dir, "trusted.pem");
            File.WriteAllText(root, trustedPem);
            List<string> args = ["verify", "-CAfile", root, "-attime", at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)];
            if (!string.IsNullOrEmpty(untrustedPem))
            {
                var chain = Path.Combine(dir, "untrusted.pem");
                File.WriteAllText(chain, untrustedPem);
                args.AddRange(["-untrusted", chain]);
            }

            var output = Run(args, leafPem);
            return output.TrimEnd().EndsWith(": OK", StringComparison.Ordinal) ? "OK" : output;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static string Run(IEnumerable<string> args, string stdin)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd() + stderr.GetAwaiter().GetResult();
        process.WaitForExit();
        return output;
    }

    /// <summary>The PEM blocks of a bundle (a leaf and its intermediates, a roots list).</summary>
    public static IReadOnlyList<string> Blocks(string pem)
    {
        const string end = "-----END CERTIFICATE-----";
        var blocks = new List<string>();
        var at = 0;
        while (pem.IndexOf("-----BEGIN CERTIFICATE-----", at, StringComparison.Ordinal) is var start and >= 0)
        {
            var stop = pem.IndexOf(end, start, StringComparison.Ordinal) + end.Length;
            blocks.Add(pem[start..stop] + "\n");
            at = stop;
        }

        return blocks;
    }
}
