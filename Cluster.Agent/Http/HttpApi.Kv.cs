using Cluster.Server.Query;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Contracts.State;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using static Cluster.Agent.Http.JsonFields;

namespace Cluster.Agent.Http;

/// <summary>/v1/kv and /v1/txn.</summary>
public sealed partial class HttpApi
{
    /// <summary>Consul's limit on one value (kv_max_value_size).</summary>
    public const int MaxValueSize = 512 * 1024;

    /// <summary>Consul's limit on operations in one transaction.</summary>
    public const int MaxTxnOps = 128;

    private void MapKv()
    {
        Map("GET,PUT,DELETE", "/v1/kv/*", KvAsync);
        Map("PUT", "/v1/txn", TxnAsync);
    }

    private Task KvAsync(ApiRequest request) => request.Method switch
    {
        "GET" => KvGetAsync(request),
        "PUT" => KvPutAsync(request),
        _ => KvDeleteAsync(request),
    };

    private async Task KvGetAsync(ApiRequest request)
    {
        var key = request.Rest;
        if (request.Has("keys"))
        {
            var separator = request.Query("separator") ?? "";
            var listed = await QueryAsync(request, new KvListQuery(key));
            var keys = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var entry in listed.Result)
            {
                var cut = separator.Length == 0 ? -1 : entry.Key.IndexOf(separator, key.Length, StringComparison.Ordinal);
                keys.Add(cut < 0 ? entry.Key : entry.Key[..(cut + separator.Length)]);
            }

            if (keys.Count == 0)
            {
                request.Http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await request.WriteJsonAsync(keys);
            return;
        }

        if (request.Has("recurse"))
        {
            var listed = await QueryAsync(request, new KvListQuery(key));
            if (listed.Result.Count == 0)
            {
                request.Http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await WriteKvArrayAsync(request, listed.Result);
            return;
        }

        if (key.Length == 0)
        {
            throw ApiException.BadRequest("Missing key name");
        }

        var read = await QueryAsync(request, new KvGetQuery(key));
        if (read.Result is not { } found)
        {
            request.Http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (request.Has("raw"))
        {
            request.Http.Response.ContentType = "application/octet-stream";
            request.Http.Response.Headers["X-Content-Type-Options"] = "nosniff";
            await request.Http.Response.Body.WriteAsync(found.Value.Memory, request.Aborted);
            return;
        }

        // Many watchers of one key wake for the same entry: render it once per stored version.
        var body = RenderedEntries.GetValue(found, static entry =>
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartArray();
                ConsulJson.WriteKv(writer, entry);
                writer.WriteEndArray();
            }

            return buffer.WrittenMemory.ToArray();
        });
        request.Http.Response.ContentType = "application/json";
        request.Http.Response.ContentLength = body.Length;
        await request.Http.Response.Body.WriteAsync(body, request.Aborted);
    }

    /// <summary>Rendered single-key answers, living as long as the stored entry they render (entries are immutable).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<KvEntry, byte[]> RenderedEntries = new();

    private static async Task WriteKvArrayAsync(ApiRequest request, IReadOnlyList<KvEntry> entries)
    {
        request.Http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(request.Http.Response.BodyWriter);
        writer.WriteStartArray();
        foreach (var entry in entries)
        {
            ConsulJson.WriteKv(writer, entry);
        }

        writer.WriteEndArray();
        await writer.FlushAsync(request.Aborted);
    }

    private async Task KvPutAsync(ApiRequest request)
    {
        var key = request.Rest;
        if (key.Length == 0)
        {
            throw ApiException.BadRequest("Missing key name");
        }

        if (request.Has("cas") && (request.Has("acquire") || request.Has("release")))
        {
            throw ApiException.BadRequest("Conflicting flags: cas cannot be combined with acquire or release");
        }

        if (request.Has("acquire") && request.Has("release"))
        {
            throw ApiException.BadRequest("Conflicting flags: acquire and release");
        }

        var op = new KvOp { Key = key, Flags = request.QueryUInt64("flags") };
        if (request.Has("cas"))
        {
            op.Verb = KvOp.Types.Verb.Cas;
            op.Index = request.QueryUInt64("cas");
        }
        else if (request.Query("acquire") is { } acquire)
        {
            op.Verb = KvOp.Types.Verb.Lock;
            op.Session = acquire;
        }
        else if (request.Query("release") is { } release)
        {
            op.Verb = KvOp.Types.Verb.Unlock;
            op.Session = release;
        }

        if (request.Http.Request.ContentLength > MaxValueSize)
        {
            throw new ApiException(StatusCodes.Status413RequestEntityTooLarge, $"Request body({request.Http.Request.ContentLength} bytes) too large, max size: {MaxValueSize} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size.");
        }

        op.Value = ByteString.CopyFrom(await request.BodyAsync(MaxValueSize));
        var (_, result) = await Node.Servers.ApplyAsync(new Command { Kv = op }, request.Aborted);
        if (result.Refused.Length > 0)
        {
            throw ApiException.BadRequest(result.Refused);
        }

        await request.WriteJsonAsync(result.Ok);
    }

    private async Task KvDeleteAsync(ApiRequest request)
    {
        var key = request.Rest;
        var recurse = request.Has("recurse");
        if (key.Length == 0 && !recurse)
        {
            throw ApiException.BadRequest("Missing key name");
        }

        var op = new KvOp { Key = key, Verb = recurse ? KvOp.Types.Verb.DeleteTree : KvOp.Types.Verb.Delete };
        if (request.Has("cas"))
        {
            if (recurse)
            {
                throw ApiException.BadRequest("Conflicting flags: cas cannot be combined with recurse");
            }

            op.Verb = KvOp.Types.Verb.DeleteCas;
            op.Index = request.QueryUInt64("cas");
        }

        var (_, result) = await Node.Servers.ApplyAsync(new Command { Kv = op }, request.Aborted);
        await request.WriteJsonAsync(result.Ok);
    }

    /// <summary>/v1/txn: KV operations applied all or nothing; 409 with the errors when any fails.</summary>
    private async Task TxnAsync(ApiRequest request)
    {
        var body = await request.JsonArrayBodyAsync(MaxTxnOps * (MaxValueSize + 1024));
        if (body.Count > MaxTxnOps)
        {
            throw new ApiException(StatusCodes.Status413RequestEntityTooLarge, $"Transaction contains too many operations ({body.Count} > {MaxTxnOps})");
        }

        var txn = new Txn();
        for (var i = 0; i < body.Count; i++)
        {
            if (body[i] is not JsonObject item || Obj(item, "KV") is not { } kv)
            {
                throw ApiException.BadRequest($"Failed to parse operation {i}: only KV operations are supported");
            }

            var op = TxnOp(kv, i);
            txn.Ops.Add(op);
        }

        // Read-only transactions go through the log too: one path, linearizable.
        var (index, result) = await Node.Servers.ApplyAsync(new Command { Txn = txn }, request.Aborted);
        request.SetIndex(index);
        var response = new JsonObject
        {
            ["Results"] = result.Ok ? new JsonArray([.. result.Results.Select(r => (JsonNode)new JsonObject { ["KV"] = ConsulJson.Kv(r) })]) : null,
            ["Errors"] = result.Ok ? null : new JsonArray([.. result.Errors.Select(e => (JsonNode)new JsonObject { ["OpIndex"] = e.OpIndex, ["What"] = e.What })]),
        };
        await request.WriteJsonAsync(response, result.Ok ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

    private static KvOp TxnOp(JsonObject kv, int position)
    {
        var verb = Str(kv, "Verb") switch
        {
            "set" => KvOp.Types.Verb.Set,
            "cas" => KvOp.Types.Verb.Cas,
            "lock" => KvOp.Types.Verb.Lock,
            "unlock" => KvOp.Types.Verb.Unlock,
            "get" => KvOp.Types.Verb.Get,
            "get-tree" => KvOp.Types.Verb.GetTree,
            "check-index" => KvOp.Types.Verb.CheckIndex,
            "check-session" => KvOp.Types.Verb.CheckSession,
            "check-not-exists" => KvOp.Types.Verb.CheckNotExists,
            "delete" => KvOp.Types.Verb.Delete,
            "delete-tree" => KvOp.Types.Verb.DeleteTree,
            "delete-cas" => KvOp.Types.Verb.DeleteCas,
            var other => throw ApiException.BadRequest($"Failed to parse operation {position}: unknown KV verb \"{other}\""),
        };
        var op = new KvOp { Verb = verb, Key = Str(kv, "Key"), Flags = UInt64Number(kv, "Flags"), Index = UInt64Number(kv, "Index"), Session = Str(kv, "Session") };
        var value = Str(kv, "Value");
        if (value.Length > 0)
        {
            try
            {
                op.Value = ByteString.FromBase64(value);
            }
            catch (FormatException)
            {
                throw ApiException.BadRequest($"Failed to parse operation {position}: Value is not valid base64");
            }

            if (op.Value.Length > MaxValueSize)
            {
                throw new ApiException(StatusCodes.Status413RequestEntityTooLarge, $"Failed to parse operation {position}: value too large ({op.Value.Length} > {MaxValueSize} bytes)");
            }
        }

        if (op.Key.Length == 0 && verb is not (KvOp.Types.Verb.DeleteTree or KvOp.Types.Verb.GetTree))
        {
            throw ApiException.BadRequest($"Failed to parse operation {position}: Missing key name");
        }

        return op;
    }
}
