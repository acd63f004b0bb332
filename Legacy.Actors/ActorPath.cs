namespace Legacy.Actors;

/// <summary>
/// The logical location of an actor: an address and the names from the root down, e.g.
/// <c>cluster://mesh@10.0.0.5:8300/user/proxies/web-1</c>. A path names a slot; the
/// <see cref="ActorRef.Uid"/> tells incarnations in that slot apart.
/// </summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    // Formatted once: remoting puts paths on every envelope.
    private string? _text;
    private string? _local;

    private ActorPath(Address address, ActorPath? parent, string name, int depth)
    {
        Address = address;
        Parent = parent;
        Name = name;
        Depth = depth;
    }

    public Address Address { get; }

    /// <summary>Null for the root.</summary>
    public ActorPath? Parent { get; }

    /// <summary>Empty for the root.</summary>
    public string Name { get; }

    /// <summary>Number of names below the root.</summary>
    public int Depth { get; }

    public static ActorPath Root(Address address) => new(address, null, "", 0);

    public ActorPath Child(string name)
    {
        ValidateElement(name);
        return new ActorPath(Address, this, name, Depth + 1);
    }

    public static ActorPath operator /(ActorPath parent, string name) => parent.Child(name);

    /// <summary>Names from the root down, root excluded.</summary>
    public IReadOnlyList<string> Elements
    {
        get
        {
            var names = new string[Depth];
            for (var p = this; p.Parent is not null; p = p.Parent)
            {
                names[p.Depth - 1] = p.Name;
            }

            return names;
        }
    }

    /// <summary>The path without the address: <c>/user/a/b</c>.</summary>
    public string ToStringWithoutAddress() => _local ??= Depth == 0 ? "/" : "/" + string.Join('/', Elements);

    public override string ToString() => _text ??= Address + ToStringWithoutAddress();

    public static ActorPath Parse(string text)
    {
        if (!Address.TryParse(text, out var address, out var rest))
        {
            throw new FormatException($"'{text}' is not an actor path (cluster://system@host:port/user/name)");
        }

        var path = Root(address);
        foreach (var name in rest.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = path.Child(name);
        }

        return path;
    }

    /// <summary>Checks <c>/a/b/c</c> (a path below an address) without allocating.</summary>
    public static bool IsValidLocalPath(ReadOnlySpan<char> path)
    {
        if (path.Length is < 2 or > 4096 || path[0] != '/')
        {
            return false;
        }

        var segment = 0;
        for (var i = 1; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '/')
            {
                if (segment == 0)
                {
                    return false;
                }

                segment = 0;
            }
            else if (c == '#' || char.IsControl(c) || ++segment > 255)
            {
                return false;
            }
        }

        return segment > 0;
    }

    public static bool IsValidElement(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 255 && !name.Contains('/', StringComparison.Ordinal) &&
        !name.Contains('#', StringComparison.Ordinal) && !name.Any(char.IsControl);

    internal static void ValidateElement(string name)
    {
        if (!IsValidElement(name))
        {
            throw new InvalidActorNameException($"'{name}' is not a valid actor name: 1-255 characters, no '/', '#' or control characters");
        }
    }

    public bool Equals(ActorPath? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || Depth != other.Depth)
        {
            return false;
        }

        for (ActorPath? a = this, b = other; a is not null && b is not null; a = a.Parent, b = b.Parent)
        {
            if (ReferenceEquals(a, b))
            {
                return true;
            }

            if (!string.Equals(a.Name, b.Name, StringComparison.Ordinal))
            {
                return false;
            }

            if (a.Parent is null)
            {
                return a.Address == b.Address;
            }
        }

        return false;
    }

    public override bool Equals(object? obj) => Equals(obj as ActorPath);

    public override int GetHashCode() => HashCode.Combine(Name, Depth, Address);
}
