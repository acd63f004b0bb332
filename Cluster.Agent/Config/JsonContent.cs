using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// A JSON object a record keeps as it was written (a service's connect or proxy block), held so
/// that the record's generated equality compares its content rather than the reference.
/// </summary>
internal sealed class JsonContent(JsonObject json) : IEquatable<JsonContent>
{
    public JsonObject Json { get; } = json;

    public static JsonContent? Of(JsonObject? json) => json is null ? null : new(json);

    public bool Equals(JsonContent? other) => other is not null && JsonNode.DeepEquals(Json, other.Json);

    public override bool Equals(object? obj) => Equals(obj as JsonContent);

    public override int GetHashCode() => Json.Count;

    public override string ToString() => Json.ToJsonString();
}
