using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Local;

/// <summary>
/// Services and checks registered through the HTTP API, kept in the data directory as the
/// request bodies that registered them (one file each, written atomically), so a restarted
/// agent registers them again, as Consul's agent does.
/// </summary>
public sealed class RegistrationStore(string directory)
{
    public const string Services = "services";
    public const string Checks = "checks";

    public void Save(string kind, string id, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var folder = Path.Combine(directory, kind);
        Directory.CreateDirectory(folder);
        var path = PathOf(kind, id);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, new JsonObject { ["ID"] = id, ["Body"] = body.DeepClone() }.ToJsonString());
        File.Move(temporary, path, overwrite: true);
    }

    public void Remove(string kind, string id)
    {
        var path = PathOf(kind, id);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>What was saved; a file that cannot be read is skipped (and named in the second list).</summary>
    public (IReadOnlyList<JsonObject> Bodies, IReadOnlyList<string> Unreadable) Load(string kind)
    {
        var folder = Path.Combine(directory, kind);
        var bodies = new List<JsonObject>();
        var unreadable = new List<string>();
        if (!Directory.Exists(folder))
        {
            return (bodies, unreadable);
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                if (JsonNode.Parse(File.ReadAllText(file)) is JsonObject { } saved && saved["Body"] is JsonObject body)
                {
                    bodies.Add((JsonObject)body.DeepClone());
                    continue;
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }

            unreadable.Add(file);
        }

        return (bodies, unreadable);
    }

    private string PathOf(string kind, string id) =>
        Path.Combine(directory, kind, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)).AsSpan(0, 16)) + ".json");
}
