using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Dns;

/// <summary>
/// One packet in, at most one packet out: reads the query, resolves it, encodes the answer
/// within the transport's limit. Malformed input is answered FORMERR or NOTIMP, never thrown;
/// a catalog failure is SERVFAIL.
/// </summary>
public sealed partial class DnsResponder(DnsResolver resolver, DnsOptions options, ILogger logger)
{
    /// <summary>
    /// Writes the reply into <paramref name="writer"/>; false when there is none to send. TCP
    /// answers carry everything (up to 64 KiB), UDP ones what the client's payload size allows.
    /// </summary>
    public async ValueTask<bool> RespondAsync(ReadOnlyMemory<byte> packet, DnsMessageWriter writer, bool tcp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var outcome = DnsMessageReader.ReadQuery(packet.Span, out var query);
        switch (outcome)
        {
            case DnsReadOutcome.Ignore:
                return false;
            case DnsReadOutcome.FormatError or DnsReadOutcome.NotImplemented:
                LogMalformed(logger, outcome, packet.Length);
                DnsResponseEncoder.EncodeError(writer, packet.Span, outcome == DnsReadOutcome.FormatError ? DnsResponseCode.FormatError : DnsResponseCode.NotImplemented);
                return true;
        }

        DnsAnswer answer;
        if (query!.Edns is { Version: > 0 })
        {
            answer = new DnsAnswer(DnsResponseCode.BadVersion, false, [], [], []);
        }
        else
        {
            try
            {
                answer = await resolver.ResolveAsync(query.Question, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                LogCatalogFailed(logger, e, query.Question.Name);
                answer = DnsAnswer.ServerFailure;
            }
        }

        var limit = tcp ? DnsWire.MaxTcpMessage : DnsResponseEncoder.UdpLimit(query, options.MaxUdpPayload);
        DnsResponseEncoder.Encode(writer, query, answer, limit, Math.Max(options.MaxUdpPayload, DnsWire.ClassicUdpPayload));
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "dns: malformed query ({Outcome}, {Length} bytes)")]
    private static partial void LogMalformed(ILogger logger, DnsReadOutcome outcome, int length);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dns: looking up {Name} failed")]
    private static partial void LogCatalogFailed(ILogger logger, Exception exception, string name);
}
