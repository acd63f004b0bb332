using System.Collections.Immutable;

namespace Cluster.Server.State;

/// <summary>
/// An immutable radix tree (the shape of go-immutable-radix, which Consul's state store stands
/// on): a write copies the path it changes and leaves every earlier version intact, so readers
/// use a version without locks while the single writer builds the next. Every node carries a
/// watch that completes when a write replaces that node, so a read can wait for exactly what it
/// read to change: a key's watch fires when that key changes, a prefix's when anything under it does.
/// </summary>
public sealed class RadixTree<T>
{
    private RadixTree(Node root, int count)
    {
        Root = root;
        Count = count;
    }

    /// <summary>An empty tree.</summary>
    public RadixTree()
        : this(new Node("", null, []), 0)
    {
    }

    public int Count { get; }

    /// <summary>Completes when anything in the tree changes.</summary>
    public Task Changed => Root.Watch.Task;

    internal Node Root { get; }

    public bool TryGet(string key, out T value)
    {
        var (leaf, _) = Find(key);
        value = leaf is null ? default! : leaf.Value;
        return leaf is not null;
    }

    /// <summary>
    /// The value at <paramref name="key"/> (if any) and a task that completes when it changes:
    /// the key's own watch if present, else the watch of the nearest node, which fires when
    /// anything is written beneath it (the key's arrival included).
    /// </summary>
    public (bool Found, T Value, Task Changed) GetWatch(string key)
    {
        var (leaf, nearest) = Find(key);
        return leaf is null ? (false, default!, nearest.Watch.Task) : (true, leaf.Value, leaf.Watch.Task);
    }

    /// <summary>Every entry whose key starts with <paramref name="prefix"/>, in key order, and a task that completes when any of them (or the set) changes.</summary>
    public (IReadOnlyList<KeyValuePair<string, T>> Entries, Task Changed) PrefixWatch(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var node = Root;
        var search = prefix;
        while (search.Length > 0)
        {
            var child = node.Child(search[0]);
            if (child is null)
            {
                return ([], node.Watch.Task);
            }

            if (search.StartsWith(child.Label, StringComparison.Ordinal))
            {
                search = search[child.Label.Length..];
                node = child;
            }
            else if (child.Label.StartsWith(search, StringComparison.Ordinal))
            {
                node = child; // the prefix ends inside this edge: all of it is under the prefix
                search = "";
            }
            else
            {
                return ([], node.Watch.Task);
            }
        }

        var entries = new List<KeyValuePair<string, T>>();
        Collect(node, entries);
        return (entries, node.Watch.Task);
    }

    public Writer Write() => new(this);

    /// <summary>Completes every watch in this version (the whole tree is being replaced, as by a snapshot restore).</summary>
    public void FireAll() => Fire(Root);

    private static void Fire(Node node)
    {
        node.Watch.TrySetResult();
        node.Leaf?.Watch.TrySetResult();
        foreach (var child in node.Children)
        {
            Fire(child);
        }
    }

    private static void Collect(Node node, List<KeyValuePair<string, T>> into)
    {
        if (node.Leaf is { } leaf)
        {
            into.Add(new(leaf.Key, leaf.Value));
        }

        foreach (var child in node.Children)
        {
            Collect(child, into);
        }
    }

    private (Leaf? Leaf, Node Nearest) Find(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var node = Root;
        var search = key;
        while (true)
        {
            if (search.Length == 0)
            {
                return (node.Leaf, node);
            }

            var child = node.Child(search[0]);
            if (child is null || !search.StartsWith(child.Label, StringComparison.Ordinal))
            {
                return (null, node);
            }

            search = search[child.Label.Length..];
            node = child;
        }
    }

    /// <summary>Builds the next version; <see cref="Commit"/> publishes it and fires the watches of everything it replaced.</summary>
    public sealed class Writer
    {
        private readonly List<TaskCompletionSource> _fired = [];
        private Node _root;
        private int _count;

        internal Writer(RadixTree<T> from)
        {
            _root = from.Root;
            _count = from.Count;
        }

        /// <summary>What the tree holds so far, writes included (watches are not fired by looking).</summary>
        public RadixTree<T> View => new(_root, _count);

        public void Set(string key, T value)
        {
            ArgumentNullException.ThrowIfNull(key);
            _root = Insert(_root, key, key, value);
        }

        public bool Delete(string key)
        {
            ArgumentNullException.ThrowIfNull(key);
            var before = _count;
            _root = Remove(_root, key, isRoot: true) ?? new Node("", null, []);
            return _count < before;
        }

        /// <summary>The new version; watches of replaced nodes and leaves complete now (after it is built, so a woken reader sees it once published by the caller).</summary>
        public RadixTree<T> Commit()
        {
            var tree = new RadixTree<T>(_root, _count);
            foreach (var watch in _fired)
            {
                watch.TrySetResult();
            }

            _fired.Clear();
            return tree;
        }

        private Node Replace(Node node, Leaf? leaf, ImmutableArray<Node> children, string? label = null)
        {
            _fired.Add(node.Watch);
            return new Node(label ?? node.Label, leaf, children);
        }

        private Node Insert(Node node, string search, string key, T value)
        {
            if (search.Length == 0)
            {
                if (node.Leaf is { } old)
                {
                    _fired.Add(old.Watch);
                }
                else
                {
                    _count++;
                }

                return Replace(node, new Leaf(key, value), node.Children);
            }

            var index = node.IndexOf(search[0]);
            if (index < 0)
            {
                _count++;
                var fresh = new Node(search, new Leaf(key, value), []);
                return Replace(node, node.Leaf, node.Children.Insert(~index, fresh));
            }

            var child = node.Children[index];
            var common = CommonPrefix(search, child.Label);
            if (common == child.Label.Length)
            {
                return Replace(node, node.Leaf, node.Children.SetItem(index, Insert(child, search[common..], key, value)));
            }

            // Split the edge: a new node for the shared part, the old child below it with the rest of its label.
            _fired.Add(child.Watch);
            var lower = new Node(child.Label[common..], child.Leaf, child.Children);
            var split = new Node(search[..common], null, [lower]);
            split = Insert(split, search[common..], key, value);
            return Replace(node, node.Leaf, node.Children.SetItem(index, split));
        }

        /// <summary>The node without <paramref name="search"/>, or null when it is left empty (and is not the root).</summary>
        private Node? Remove(Node node, string search, bool isRoot)
        {
            if (search.Length == 0)
            {
                if (node.Leaf is not { } leaf)
                {
                    return node;
                }

                _fired.Add(leaf.Watch);
                _count--;
                return Shrink(Replace(node, null, node.Children), isRoot);
            }

            var index = node.IndexOf(search[0]);
            if (index < 0 || !search.StartsWith(node.Children[index].Label, StringComparison.Ordinal))
            {
                return node;
            }

            var child = node.Children[index];
            var updated = Remove(child, search[child.Label.Length..], isRoot: false);
            if (ReferenceEquals(updated, child))
            {
                return node;
            }

            var children = updated is null ? node.Children.RemoveAt(index) : node.Children.SetItem(index, updated);
            return Shrink(Replace(node, node.Leaf, children), isRoot);
        }

        /// <summary>Keeps the tree compact: an empty node goes, a node with one child and no value merges with it.</summary>
        private static Node? Shrink(Node node, bool isRoot)
        {
            if (isRoot)
            {
                return node;
            }

            if (node.Leaf is null && node.Children.Length == 0)
            {
                return null;
            }

            if (node.Leaf is null && node.Children.Length == 1)
            {
                // The merged node holds exactly the entries the child held, so it keeps the child's
                // watch: firing it woke every reader of that subtree for a sibling's delete.
                var only = node.Children[0];
                return new Node(node.Label + only.Label, only.Leaf, only.Children) { Watch = only.Watch };
            }

            return node;
        }

        private static int CommonPrefix(string a, string b)
        {
            var i = 0;
            while (i < a.Length && i < b.Length && a[i] == b[i])
            {
                i++;
            }

            return i;
        }
    }

    internal sealed class Leaf(string key, T value)
    {
        public string Key { get; } = key;

        public T Value { get; } = value;

        public TaskCompletionSource Watch { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal sealed class Node(string label, Leaf? leaf, ImmutableArray<Node> children)
    {
        public string Label { get; } = label;

        public Leaf? Leaf { get; } = leaf;

        /// <summary>Sorted by the first character of their labels (distinct by construction).</summary>
        public ImmutableArray<Node> Children { get; } = children;

        public TaskCompletionSource Watch { get; init; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Node? Child(char first)
        {
            var index = IndexOf(first);
            return index < 0 ? null : Children[index];
        }

        /// <summary>Binary search by first character; the complement of the insertion point when absent.</summary>
        public int IndexOf(char first)
        {
            int low = 0, high = Children.Length - 1;
            while (low <= high)
            {
                var mid = (low + high) >> 1;
                var c = Children[mid].Label[0];
                if (c == first)
                {
                    return mid;
                }

                if (c < first)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid - 1;
                }
            }

            return ~low;
        }
    }
}
