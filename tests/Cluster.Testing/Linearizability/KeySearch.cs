namespace Cluster.Testing.Linearizability;

/// <summary>
/// The search for one key. The history is cut where it is quiescent (every required operation called
/// before the cut has returned before it); configurations — a model state and the optional operations
/// already linearized — are carried across cuts, keeping only those no other one dominates (same
/// state, a subset linearized: fewer options used). Within a segment a Wing–Gong depth-first search,
/// iterative and memoized on (operations linearized, state) as Lowe does, enumerates every end
/// configuration.
/// </summary>
/// <remarks>
/// Optional operations (unknown outcome) are placed only in runs just before a required operation:
/// a run at a segment's end can equally start the next segment, so nothing is lost. The runs are
/// closed under dominance breadth first, optional operations with the same effect are
/// interchangeable once called (only the earliest unconsumed one of each such group is tried), and a
/// blind operation (a write) is tried only from the node's own configuration, since after other
/// optional operations it reaches the same state having used more of them.
/// </remarks>
internal sealed class KeySearch<TState>
{
    private readonly IModel<TState> _model;
    private readonly Budget _budget;
    private readonly SearchOp[] _required;
    private readonly int[] _requiredEffect;
    private readonly SearchOp[] _optional;
    private readonly int[][] _groups;
    private readonly int[] _groupEffect;
    private readonly Dictionary<int, int> _optionalById = [];

    private readonly Dictionary<EffectKey, int> _effectIds = [];
    private readonly List<Operation> _effects = [];
    private readonly List<bool> _blind = [];
    private readonly Dictionary<StateKey, int> _stateIds = [];
    private readonly List<TState> _states = [];
    private readonly Dictionary<long, int> _steps = [];
    private readonly List<int> _activeGroups = [];

    public KeySearch(IModel<TState> model, IEnumerable<SearchOp> operations, Budget budget)
    {
        _model = model;
        _budget = budget;
        var ops = operations.ToList();
        _required = [.. ops.Where(o => !o.Optional).OrderBy(o => o.Call).ThenBy(o => o.Return).ThenBy(o => o.Id)];
        _optional = [.. ops.Where(o => o.Optional).OrderBy(o => o.Call).ThenBy(o => o.Id)];
        _requiredEffect = [.. _required.Select(o => EffectOf(o.Effect))];

        var groups = new Dictionary<int, List<int>>();
        var groupOrder = new List<int>();
        for (var i = 0; i < _optional.Length; i++)
        {
            _optionalById[_optional[i].Id] = i;
            var effect = EffectOf(_optional[i].Effect);
            if (!groups.TryGetValue(effect, out var members))
            {
                groups[effect] = members = [];
                groupOrder.Add(effect);
            }

            members.Add(i);
        }

        _groups = [.. groupOrder.Select(e => groups[e].ToArray())];
        _groupEffect = [.. groupOrder];
    }

    public SearchOutcome<TState> Run(IReadOnlyList<StartConfig<TState>>? start = null)
    {
        var configs = new ConfigSet();
        if (start is null)
        {
            configs.Add(new Config(Intern(_model.Initial), Bits.Empty));
        }
        else
        {
            foreach (var config in start)
            {
                var consumed = Bits.Empty;
                foreach (var id in config.Consumed)
                {
                    if (_optionalById.TryGetValue(id, out var index))
                    {
                        consumed = consumed.With(index);
                    }
                }

                configs.Add(new Config(Intern(config.State), consumed));
            }
        }

        var segments = Segments();
        var current = configs.ToList();
        var maxConfigs = current.Count;
        var nextGroup = 0;
        for (var s = 0; s < segments.Count; s++)
        {
            var (lo, hi, end) = segments[s];
            for (; nextGroup < _groups.Length && _optional[_groups[nextGroup][0]].Call <= end; nextGroup++)
            {
                _activeGroups.Add(nextGroup);
            }

            maxConfigs = Math.Max(maxConfigs, current.Count);
            List<Config> next;
            try
            {
                next = SearchSegment(lo, hi, current);
            }
            catch (BudgetExhaustedException)
            {
                return new SearchOutcome<TState>(SearchStatus.OutOfTime, segments.Count, s, maxConfigs, null);
            }

            if (next.Count == 0)
            {
                var failure = new FailedSegment<TState>(s, _required[lo..hi], [.. current.Select(External)]);
                return new SearchOutcome<TState>(SearchStatus.NotLinearizable, segments.Count, s, maxConfigs, failure);
            }

            current = next;
        }

        maxConfigs = Math.Max(maxConfigs, current.Count);
        return new SearchOutcome<TState>(SearchStatus.Linearizable, segments.Count, segments.Count, maxConfigs, null);
    }

    /// <summary>Index ranges of the required operations between quiescent cuts, and each one's last return.</summary>
    private List<(int Lo, int Hi, long End)> Segments()
    {
        var segments = new List<(int, int, long)>();
        var lo = 0;
        while (lo < _required.Length)
        {
            var end = _required[lo].Return;
            var hi = lo + 1;
            // Equal times count as concurrent: the cut needs a call strictly after every return.
            for (; hi < _required.Length && _required[hi].Call <= end; hi++)
            {
                end = Math.Max(end, _required[hi].Return);
            }

            segments.Add((lo, hi, end));
            lo = hi;
        }

        return segments;
    }

    private List<Config> SearchSegment(int lo, int hi, List<Config> starts)
    {
        var segment = new Segment(lo, hi - lo);
        foreach (var start in starts)
        {
            if (!segment.Remember(Linearized.None, start))
            {
                continue;
            }

            var stack = new Stack<Frame>();
            stack.Push(Expand(segment, Linearized.None, start));
            while (stack.Count > 0)
            {
                _budget.Step();
                if (NextChild(segment, stack.Peek()) is { } child)
                {
                    stack.Push(child);
                }
                else
                {
                    stack.Pop();
                }
            }
        }

        return segment.Ends.ToList();
    }

    /// <summary>The next unexplored node below <paramref name="frame"/>, or null when it has none left.</summary>
    private Frame? NextChild(Segment segment, Frame frame)
    {
        for (; frame.Entry < frame.Closure.Count; frame.Entry++, frame.Candidate = 0)
        {
            var from = frame.Closure[frame.Entry];
            while (frame.Candidate < frame.Candidates.Length)
            {
                var i = frame.Candidates[frame.Candidate++];
                var effect = _requiredEffect[segment.Lo + i];
                if (frame.Entry > 0 && _blind[effect])
                {
                    continue; // the node's own configuration reaches the same state using less
                }

                var state = Step(from.State, effect);
                if (state < 0)
                {
                    continue;
                }

                var known = frame.Known.With(i);
                var config = new Config(state, from.Consumed);
                if (known.Prefix == segment.Count)
                {
                    segment.Ends.Add(config);
                }
                else if (segment.Remember(known, config))
                {
                    return Expand(segment, known, config);
                }
            }
        }

        return null;
    }

    private Frame Expand(Segment segment, Linearized known, Config config)
    {
        // Candidates: operations not yet linearized and called no later than the earliest return
        // among them. In call order, nothing past a call later than the running minimum can lower it.
        var candidates = new List<int>();
        var earliestReturn = long.MaxValue;
        for (var i = known.Prefix; i < segment.Count; i++)
        {
            if (known.Contains(i))
            {
                continue;
            }

            var op = _required[segment.Lo + i];
            if (op.Call > earliestReturn)
            {
                break;
            }

            candidates.Add(i);
            earliestReturn = Math.Min(earliestReturn, op.Return);
        }

        var count = candidates.Count;
        while (_required[segment.Lo + candidates[count - 1]].Call > earliestReturn)
        {
            count--;
        }

        return new Frame(known, Closure(config, earliestReturn), [.. candidates.Take(count)]);
    }

    /// <summary>
    /// Every configuration reachable from <paramref name="root"/> by optional operations called no later
    /// than <paramref name="deadline"/>, none dominated by another; the root first.
    /// </summary>
    private List<Config> Closure(Config root, long deadline)
    {
        var available = new List<int>();
        foreach (var group in _activeGroups)
        {
            var head = Head(group, root.Consumed);
            if (head >= 0 && _optional[head].Call <= deadline)
            {
                available.Add(group);
            }
        }

        if (available.Count == 0)
        {
            return [root];
        }

        var reached = new ConfigSet();
        reached.Add(root);
        for (var q = 0; q < reached.Count; q++)
        {
            if (!reached.IsLive(q))
            {
                continue;
            }

            var from = reached[q];
            foreach (var group in available)
            {
                var effect = _groupEffect[group];
                if (q > 0 && _blind[effect])
                {
                    continue; // reached from the root already, using less
                }

                var head = Head(group, from.Consumed);
                if (head < 0 || _optional[head].Call > deadline)
                {
                    continue;
                }

                var state = Step(from.State, effect);
                if (state >= 0)
                {
                    reached.Add(new Config(state, from.Consumed.With(head)));
                }
            }
        }

        return reached.ToList();
    }

    /// <summary>The earliest-called member of the group not yet consumed, or -1.</summary>
    private int Head(int group, Bits consumed)
    {
        foreach (var member in _groups[group])
        {
            if (!consumed.Contains(member))
            {
                return member;
            }
        }

        return -1;
    }

    /// <summary>The state after <paramref name="effect"/> from <paramref name="state"/>, or -1 when it is illegal there.</summary>
    private int Step(int state, int effect)
    {
        var key = ((long)state << 32) | (uint)effect;
        if (!_steps.TryGetValue(key, out var next))
        {
            next = _model.TryStep(_states[state], _effects[effect], out var after) ? Intern(after) : -1;
            _steps[key] = next;
        }

        return next;
    }

    private int Intern(TState state)
    {
        var key = new StateKey(state);
        if (!_stateIds.TryGetValue(key, out var id))
        {
            id = _states.Count;
            _states.Add(state);
            _stateIds[key] = id;
        }

        return id;
    }

    private int EffectOf(Operation op)
    {
        var key = new EffectKey(op.Kind, op.Value, op.Expected, op.Succeeded);
        if (!_effectIds.TryGetValue(key, out var id))
        {
            id = _effects.Count;
            _effects.Add(op);
            _blind.Add(_model.IsBlind(op));
            _effectIds[key] = id;
        }

        return id;
    }

    private StartConfig<TState> External(Config config) =>
        new(_states[config.State], config.Consumed.Members().Select(i => _optional[i].Id).ToHashSet());

    /// <summary>Wraps a state so that null is a usable dictionary key.</summary>
    private readonly record struct StateKey(TState Value);

    private readonly record struct EffectKey(OpKind Kind, string? Value, string? Expected, bool Succeeded);

    /// <summary>One node's exploration: its closure and candidates, and how far through them it is.</summary>
    private sealed class Frame(Linearized known, List<Config> closure, int[] candidates)
    {
        public Linearized Known { get; } = known;

        public List<Config> Closure { get; } = closure;

        public int[] Candidates { get; } = candidates;

        public int Entry { get; set; }

        public int Candidate { get; set; }
    }

    /// <summary>A segment being searched: its range, its memo of visited nodes, its end configurations.</summary>
    private sealed class Segment(int lo, int count)
    {
        private readonly Dictionary<(Linearized Known, int State), List<Bits>> _visited = [];

        public int Lo { get; } = lo;

        public int Count { get; } = count;

        public ConfigSet Ends { get; } = new();

        /// <summary>
        /// Records a node, or returns false when a visited node with the same operations linearized and
        /// the same state used a subset of the optional operations: everything below this one is below that one.
        /// </summary>
        public bool Remember(Linearized known, Config config)
        {
            if (!_visited.TryGetValue((known, config.State), out var seen))
            {
                _visited[(known, config.State)] = [config.Consumed];
                return true;
            }

            foreach (var other in seen)
            {
                if (other.IsSubsetOf(config.Consumed))
                {
                    return false;
                }
            }

            seen.RemoveAll(other => config.Consumed.IsSubsetOf(other));
            seen.Add(config.Consumed);
            return true;
        }
    }
}

/// <summary>A model state (interned) and the optional operations (by index) linearized to reach it.</summary>
internal readonly record struct Config(int State, Bits Consumed);

/// <summary>
/// Configurations kept free of dominated ones, in the order first added. One added later that
/// dominates earlier ones makes them dead; they keep their index so a scan over the set can go on.
/// </summary>
internal sealed class ConfigSet
{
    private readonly List<Config> _all = [];
    private readonly List<bool> _live = [];
    private readonly Dictionary<int, List<int>> _byState = [];

    public int Count => _all.Count;

    public Config this[int index] => _all[index];

    public bool IsLive(int index) => _live[index];

    /// <summary>Adds the configuration unless one with its state and a subset of its consumed operations is here.</summary>
    public bool Add(Config config)
    {
        if (!_byState.TryGetValue(config.State, out var same))
        {
            _byState[config.State] = same = [];
        }

        foreach (var index in same)
        {
            if (_all[index].Consumed.IsSubsetOf(config.Consumed))
            {
                return false;
            }
        }

        same.RemoveAll(index =>
        {
            var dominated = config.Consumed.IsSubsetOf(_all[index].Consumed);
            if (dominated)
            {
                _live[index] = false;
            }

            return dominated;
        });
        same.Add(_all.Count);
        _all.Add(config);
        _live.Add(true);
        return true;
    }

    public List<Config> ToList() => [.. _all.Where((_, i) => _live[i])];
}
