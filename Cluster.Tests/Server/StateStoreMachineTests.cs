using Cluster.Server.Nodes;
using Cluster.Server.State;
using Cluster.Contracts.State;
using Google.Protobuf;
using Verb = Cluster.Contracts.State.KvOp.Types.Verb;

namespace Cluster.Tests.Server;

/// <summary>
/// Whatever bytes reach the FSM, applying them never throws (an exception there would stop the
/// server's Raft loop on every server alike). Bytes that do not decode change nothing but the
/// index; bytes that do decode act exactly as the command they decode to, and a command the
/// store refuses changes nothing but the index.
/// </summary>
public sealed class StateStoreMachineTests
{
    [Fact]
    public void Random_bytes_never_throw_and_change_nothing_unless_they_decode()
    {
        var random = new Random(5150);
        var inputs = new List<byte[]>();
        for (var i = 0; i < 1500; i++)
        {
            var bytes = new byte[random.Next(0, 48)];
            random.NextBytes(bytes);
            inputs.Add(bytes);
        }

        Feed(inputs);
    }

    [Fact]
    public void Truncated_commands_never_throw_and_change_nothing_unless_they_decode()
    {
        var inputs = new List<byte[]>();
        foreach (var command in ValidCommands())
        {
            var bytes = command.ToByteArray();
            for (var length = 0; length < bytes.Length; length++)
            {
                inputs.Add(bytes[..length]);
            }
        }

        Feed(inputs);
    }

    [Fact]
    public void Corrupted_commands_never_throw_and_act_as_what_they_decode_to()
    {
        var random = new Random(77);
        var inputs = new List<byte[]>();
        foreach (var command in ValidCommands())
        {
            var bytes = command.ToByteArray();
            for (var i = 0; i < 120; i++)
            {
                var corrupted = (byte[])bytes.Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                {
                    corrupted[random.Next(corrupted.Length)] = (byte)random.Next(256);
                }

                inputs.Add(corrupted);
            }
        }

        Feed(inputs);
    }

    [Fact]
    public void Well_formed_commands_with_missing_or_unknown_parts_are_refused()
    {
        Command[] odd =
        [
            new Command(),
            new Command { UnixMs = 5 },
            new Command { Register = new Register() },
            new Command { Register = new Register { Node = new Node { Name = "n9" }, SkipNodeUpdate = true } },
            new Command { Deregister = new Deregister() },
            new Command { Kv = new KvOp() },
            new Command { Kv = new KvOp { Verb = (Verb)99, Key = "k" } },
            new Command { Kv = new KvOp { Verb = Verb.GetTree, Key = "app/" } },
            new Command { Session = new SessionOp() },
            new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Create } },
            new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Create, Session = new Session() } },
            new Command { Session = new SessionOp { Verb = (SessionOp.Types.Verb)3, Session = new Session { Id = "locker" } } },
            new Command { Config = new ConfigOp() },
            new Command { Config = new ConfigOp { Verb = (ConfigOp.Types.Verb)42, Entry = new ConfigEntry { Kind = "k", Name = "n" } } },
            new Command { Txn = new Txn { Ops = { new KvOp { Verb = (Verb)99, Key = "k" } } } },
            new Command { Txn = new Txn { Ops = { new KvOp { Verb = Verb.Set, Key = "ok" }, new KvOp() } } },
        ];
        var h = StateStoreSnapshotTests.Populated();
        var machine = new ServerStateMachine(h.Store);
        var index = h.Index;
        foreach (var command in odd)
        {
            var before = StateStoreHarness.WithoutIndex(h.Store);
            var batch = h.Store.Events.Latest;
            var result = Assert.IsType<CommandResult>(machine.Apply(++index, command.ToByteString()));
            Assert.False(result.Ok, command.ToString());
            Assert.True(result.Refused.Length > 0 || result.Errors.Count > 0, command.ToString());
            Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
            Assert.Equal(index, h.State.Index);
            Assert.Null(StateStoreHarness.NextBatch(batch));
        }
    }

    /// <summary>
    /// Feeds each input to the FSM over a populated store, and alongside to a twin store that is
    /// given the decoded command directly (or skips the index when it does not decode).
    /// </summary>
    private static void Feed(List<byte[]> inputs)
    {
        StateStoreHarness h = null!;
        StateStore twin = null!;
        ServerStateMachine machine = null!;
        ulong index = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            if (i % 300 == 0)
            {
                // Decodable corruptions delete and deregister: start again from a full store now and then.
                h = StateStoreSnapshotTests.Populated();
                twin = new StateStore();
                twin.Restore(StateStoreHarness.SnapshotBytes(h.Store));
                machine = new ServerStateMachine(h.Store);
                index = h.Index;
            }

            var input = inputs[i];
            var before = h.State;
            var batch = h.Store.Events.Latest;
            index++;
            object? answer;
            try
            {
                answer = machine.Apply(index, ByteString.CopyFrom(input));
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"Apply threw for {Convert.ToHexString(input)}: {e}", e);
            }

            var result = Assert.IsType<CommandResult>(answer);
            Assert.Equal(index, h.State.Index);
            Command? decoded;
            try
            {
                decoded = Command.Parser.ParseFrom(input);
            }
            catch (InvalidProtocolBufferException)
            {
                decoded = null;
            }

            if (decoded is null)
            {
                twin.Skip(index);
                Assert.False(result.Ok);
                Assert.NotEmpty(result.Refused);
            }
            else
            {
                Assert.Equal(twin.Apply(index, decoded), result);
            }

            if (decoded is null || result.Refused.Length > 0 || result.Errors.Count > 0)
            {
                StateStoreHarness.AssertUnchanged(before, h.State);
                Assert.Null(StateStoreHarness.NextBatch(batch));
            }
            else
            {
                Assert.Equal(StateStoreHarness.Capture(twin), StateStoreHarness.Capture(h.Store));
            }
        }

        Assert.Equal(StateStoreHarness.Capture(twin), StateStoreHarness.Capture(h.Store));
    }

    private static IEnumerable<Command> ValidCommands()
    {
        var register = new Register
        {
            Node = new Node { Name = "n3", Address = "10.0.0.3", Datacenter = "dc1", Meta = { ["k"] = "v" } },
            Service = new Service { Id = "api", Name = "api", Tags = { "a", "b" }, Port = 9000 },
        };
        register.Checks.Add(new Check { Id = "api-check", Name = "api", Status = "passing", ServiceId = "api" });
        yield return new Command { Register = register };
        yield return new Command { Deregister = new Deregister { Node = "n1", ServiceId = "web-1" } };
        yield return new Command { Kv = StateStoreHarness.Op(Verb.Set, "app/config", "a longer value that spans some bytes", flags: 42) };
        yield return new Command { Kv = StateStoreHarness.Op(Verb.Cas, "app/config", "x", index: 25) };
        yield return new Command { Kv = StateStoreHarness.Op(Verb.Lock, "app/other", "x", session: "locker") };
        yield return new Command { Kv = StateStoreHarness.Op(Verb.DeleteTree, "app/item/") };
        yield return new Command
        {
            Session = new SessionOp { Verb = SessionOp.Types.Verb.Create, Session = new Session { Id = "new-session", Node = "n1", Behavior = "delete", NodeChecks = { "serfHealth" } } },
        };
        yield return new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy, Session = new Session { Id = "locker" } } };
        yield return new Command { Config = new ConfigOp { Verb = ConfigOp.Types.Verb.Upsert, Entry = new ConfigEntry { Kind = "service-defaults", Name = "api", Json = "{\"Protocol\":\"grpc\"}" } } };
        yield return new Command
        {
            Txn = new Txn
            {
                Ops =
                {
                    StateStoreHarness.Op(Verb.Set, "txn/a", "1"),
                    StateStoreHarness.Op(Verb.CheckIndex, "app/config", index: 21),
                    StateStoreHarness.Op(Verb.Delete, "top"),
                },
            },
        };
        yield return new Command { Reap = new ReapTombstones { UpTo = 30 } };
    }
}
