using Cluster.Gossip.Core;
using Cluster.Gossip.Security;
using Cluster.Gossip.Transport;
using Cluster.Gossip.Wire;
using Google.Protobuf;

namespace Cluster.Gossip.Pool;

/// <summary>
/// One gossip pool as an agent runs it (the LAN pool on every agent, the WAN pool on servers):
/// a <see cref="GossipHost"/> with the pool's profile, label and member name, a keyring kept on
/// disk, and keyring operations that run across every member through a query, so a key can be
/// rotated without a restart: install everywhere, use everywhere, remove the old one.
/// </summary>
public sealed class GossipPool : IAsyncDisposable
{
    /// <summary>The query every member answers with its keyring.</summary>
    public const string KeyringQuery = "_cluster_keyring";

    private readonly GossipHost _host;
    private readonly Lock _keyringGate = new();

    private GossipPool(PoolOptions options, GossipHost host, Keyring? keyring)
    {
        Options = options;
        _host = host;
        Keyring = keyring;
        host.OnQuery = Answer;
    }

    public PoolOptions Options { get; }

    /// <summary>This member's keys (null when the pool is not encrypted).</summary>
    public Keyring? Keyring { get; }

    public string Address => _host.Address;

    public string Name => Options.MemberName;

    public IReadOnlyList<Member> Members => _host.Members;

    /// <inheritdoc cref="GossipHost.Changed"/>
    public Task Changed => _host.Changed;

    public long DroppedPackets => _host.DroppedPackets;

    public Action<UserEvent>? OnUserEvent
    {
        get => _host.OnUserEvent;
        set => _host.OnUserEvent = value;
    }

    /// <summary>
    /// Starts the member. A saved keyring file wins over <see cref="PoolOptions.Keyring"/> (it
    /// holds the result of every rotation since); a first start saves the given keyring there.
    /// </summary>
    public static GossipPool Start(PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keyring = options.KeyringFile is { } file ? KeyringFile.Load(file) ?? options.Keyring : options.Keyring;
        if (keyring is not null && options.KeyringFile is { } path && !File.Exists(path))
        {
            KeyringFile.Save(path, keyring);
        }

        var tags = new Dictionary<string, string>(options.Tags) { ["dc"] = options.Datacenter };
        var host = GossipHost.Start(
            options.Bind,
            address =>
            {
                var profile = PoolOptions.Profile(options.Kind, options.MemberName, address) with { Tags = tags };
                return options.Tune?.Invoke(profile) ?? profile;
            },
            keyring,
            options.Label,
            options.Time,
            options.Random);
        return new GossipPool(options, host, keyring);
    }

    /// <inheritdoc cref="GossipHost.JoinAsync"/>
    public Task<int> JoinAsync(IEnumerable<string> addresses) => _host.JoinAsync(addresses);

    public void UpdateTags(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        _host.UpdateTags(new Dictionary<string, string>(tags) { ["dc"] = Options.Datacenter });
    }

    public void SendUserEvent(string name, ByteString payload) => _host.SendUserEvent(name, payload);

    public List<MembershipEvent> TakeEvents() => _host.TakeEvents();

    public Task<KeyringResponse> ListKeysAsync() => KeyringAsync(KeyringRequest.Types.Op.List, null);

    public Task<KeyringResponse> InstallKeyAsync(string key) => KeyringAsync(KeyringRequest.Types.Op.Install, key);

    public Task<KeyringResponse> UseKeyAsync(string key) => KeyringAsync(KeyringRequest.Types.Op.Use, key);

    public Task<KeyringResponse> RemoveKeyAsync(string key) => KeyringAsync(KeyringRequest.Types.Op.Remove, key);

    /// <summary>Leaves on purpose (others record "left") and keeps gossiping briefly so the news spreads.</summary>
    public async Task LeaveAsync()
    {
        _host.Leave();
        await Task.Delay(PoolOptions.Profile(Options.Kind, Name, Address).GossipInterval * 5, Options.Time ?? TimeProvider.System).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private async Task<KeyringResponse> KeyringAsync(KeyringRequest.Types.Op op, string? key)
    {
        if (Keyring is null)
        {
            throw new InvalidOperationException("gossip encryption is not enabled on this pool (start it with a key)");
        }

        var request = new KeyringRequest { Op = op };
        if (key is not null)
        {
            request.Key = ByteString.CopyFrom(Keyring.ParseKey(key)); // a malformed key fails here, before anyone is asked
        }

        var result = await _host.QueryAsync(KeyringQuery, request.ToByteString()).ConfigureAwait(false);
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var primaries = new Dictionary<string, int>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (member, payload) in result.Answers)
        {
            KeyringReply reply;
            try
            {
                reply = KeyringReply.Parser.ParseFrom(payload);
            }
            catch (InvalidProtocolBufferException)
            {
                errors[member] = "an unreadable answer";
                continue;
            }

            if (reply.Error.Length > 0)
            {
                errors[member] = reply.Error;
            }

            for (var i = 0; i < reply.Keys.Count; i++)
            {
                keys[reply.Keys[i]] = keys.GetValueOrDefault(reply.Keys[i]) + 1;
                if (i == 0)
                {
                    primaries[reply.Keys[i]] = primaries.GetValueOrDefault(reply.Keys[i]) + 1;
                }
            }
        }

        return new KeyringResponse(result.Answers.Count + result.Missing.Count, keys, primaries, errors, result.Missing);
    }

    /// <summary>This member's side of a keyring query: apply, save, answer with the keys (primary first).</summary>
    private ByteString? Answer(Query query)
    {
        if (query.Name != KeyringQuery)
        {
            return null;
        }

        var reply = new KeyringReply();
        if (Keyring is null)
        {
            reply.Error = "gossip encryption is not enabled on this member";
            return reply.ToByteString();
        }

        lock (_keyringGate)
        {
            try
            {
                var request = KeyringRequest.Parser.ParseFrom(query.Payload);
                var key = request.Key.ToByteArray();
                switch (request.Op)
                {
                    case KeyringRequest.Types.Op.Install:
                        Keyring.Install(key);
                        break;
                    case KeyringRequest.Types.Op.Use:
                        Keyring.Use(key);
                        break;
                    case KeyringRequest.Types.Op.Remove:
                        Keyring.Remove(key);
                        break;
                    case KeyringRequest.Types.Op.List:
                        break;
                    default:
                        throw new ArgumentException($"unknown keyring operation {request.Op}");
                }

                if (request.Op != KeyringRequest.Types.Op.List && Options.KeyringFile is { } file)
                {
                    KeyringFile.Save(file, Keyring);
                }
            }
            catch (ArgumentException exception)
            {
                reply.Error = exception.ParamName is { } name ? exception.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : exception.Message;
            }
            catch (Exception exception) when (exception is InvalidProtocolBufferException or IOException or UnauthorizedAccessException)
            {
                reply.Error = exception.Message;
            }

            reply.Keys.Add(Keyring.List());
        }

        return reply.ToByteString();
    }
}

/// <summary>
/// What a keyring operation found across the pool (Consul's shape): how many members were
/// asked, how many hold each key and use each as primary, the members that refused and why,
/// and those that did not answer in time.
/// </summary>
public sealed record KeyringResponse(
    int NumNodes,
    IReadOnlyDictionary<string, int> Keys,
    IReadOnlyDictionary<string, int> PrimaryKeys,
    IReadOnlyDictionary<string, string> Errors,
    IReadOnlyList<string> Missing)
{
    /// <summary>Every member answered and none refused.</summary>
    public bool Succeeded => Errors.Count == 0 && Missing.Count == 0;
}
