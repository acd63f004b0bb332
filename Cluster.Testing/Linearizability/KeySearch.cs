namespace Cluster.Testing.Linearizability;

/// <summary>
/// The search for one key. The history is cut where it is quiescent (every required operation called
/// before the cut has returned before it); configurations — a model state and the optional operations
/// already linearized — are carried across cuts, keeping only those no other one dominates (same
/// state, fewer options used). Within a segment a Wing–Gong depth-first search, iterative and
/// memoized on (operations linearized, state) as Lowe does, enumerates every end configuration.
/// </summary>
/// <remarks>
/// <para>
/// Optional operations (unknown outcome) are placed only in runs just before a required operation: a
/// run at a segment's end can equally start the next segment, so nothing is lost. A blind operation
/// (a write) is tried only from the node's own configuration, since after other optional operations
/// it reaches the same state having used more of them.
/// </para>
/// <para>
/// Dominance counts consumed optional operations per class rather than comparing sets: once called,
/// operations with the same effect are interchangeable, and only one of each class is tried at a
/// time. Where the model says which values operations observe, a value that no operation still to
/// be linearized observes is dead, and operations that differ only in dead values fall into one
/// class: the class of an operation changes as the search moves along the history.
/// </para>
/// </remarks>
internal sealed class KeySearch<TState>
{
    private const int Never = int.MaxValue;

    private readonly IModel<TState> _model;
    private readonly Budget _budget;
    private readonly SearchOp[] _required;
    private readonly int[] _requiredEffect;
    private readonly SearchOp[] _optional;
    private readonly Stage[][] _stages;
    private readonly int[] _changes; // positions where some optional operation changes class, ascending
    private readonly Dictionary<int, int> _optionalById = [];

    private readonly Dictionary<EffectKey, int> _effectIds = [];
    private readonly List<Operation> _effects = [];
    private readonly List<bool> _blind = [];
    private readonly Dictionary<StateKey, int> _stateIds = [];
    private readonly List<TState> _states = [];
    private readonly Dictionary<long, int> _steps = [];

    public KeySearch(IModel<TState> model, IEnumerable<SearchOp> operations, Budget budget)
    {
        _model = model;
        _budget = budget;
        var ops = operations.ToList();
        _required = [.. ops.Where(o => !o.Optional).OrderBy(o => o.Call).ThenBy(o => o.Return).ThenBy(o => o.Id)];
        _optional = [.. ops.Where(o => o.Optional).OrderBy(o => o.Call).ThenBy(o => o.Id)];
        for (var i = 0; i < _optional.Length; i++)
        {
            _optionalById[_optional[i].Id] = i;
        }

        var deaths = Deaths();
        _requiredEffect = [.. _required.Select(o => EffectOf(Forget(o.Effect, deaths, 0)))];
        _stages = [.. _optional.Select(o => Stages(o.Effect, deaths))];
        _changes = [.. _stages.SelectMany(s => s.Skip(1)).Select(s => s.From).Distinct().Order()];
    }

    public SearchOutcome<TState> Run(IReadOnlyList<StartConfig<TState>>? start = null)
    {
        var configs = new ConfigSet();
        var segments = Segments();
        if (start is null)
        {
            configs.Add(new Config(Intern(_model.Initial), Bits.Empty, Signature.Empty));
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

                configs.Add(new Config(Intern(config.State), consumed, SignatureOf(consumed, 0)));
            }
        }

        var current = configs.ToList();
        var maxConfigs = current.Count;
        for (var s = 0; s < segments.Count; s++)
        {
            var (lo, hi) = segments[s];
            maxConfigs = Math.Max(maxConfigs, current.Count);
            List<Config> next;
            try
            {
                next = SearchSegment(lo, hi, current);
            }
            catch (BudgetExhaustedException)
            {
                return new SearchOutcome<TState>(SearchStatus.OutOfSteps, segments.Count, s, maxConfigs, null);
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

    /// <summary>Index ranges of the required operations between quiescent cuts.</summary>
    private List<(int Lo, int Hi)> Segments()
    {
        var segments = new List<(int, int)>();
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

            segments.Add((lo, hi));
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
        var position = segment.Lo + frame.Known.Prefix;
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
                var at = segment.Lo + known.Prefix;
                var signature = ClassesChange(position, at) ? SignatureOf(from.Consumed, at) : from.Signature;
                var config = new Config(state, from.Consumed, signature);
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

        var closure = Closure(segment, config, segment.Lo + known.Prefix, earliestReturn);
        return new Frame(known, closure, [.. candidates.Take(count)]);
    }

    /// <summary>
    /// Every configuration reachable from <paramref name="root"/> by optional operations called no later
    /// than <paramref name="deadline"/>, none dominated by another; the root first.
    /// </summary>
    private List<Config> Closure(Segment segment, Config root, int position, long deadline)
    {
        var moves = segment.Moves(root.State, position, deadline, this);
        if (moves.TrueForAll(m => Head(m.Members, root.Consumed) < 0))
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
            foreach (var (cls, members, state) in q == 0 ? moves : segment.Moves(from.State, position, deadline, this))
            {
                if (q > 0 && _blind[cls])
                {
                    continue; // reached from the root already, using less
                }

                var head = Head(members, from.Consumed);
                if (head >= 0)
                {
                    reached.Add(new Config(state, from.Consumed.With(head), from.Signature.Plus(cls)));
                }
            }
        }

        return reached.ToList();
    }

    /// <summary>The classes of optional operations called by <paramref name="deadline"/> that are legal in <paramref name="state"/>, with the state each leaves.</summary>
    private List<Move> MovesOf(Segment segment, int state, int position, long deadline)
    {
        var moves = new List<Move>();
        foreach (var (cls, members) in segment.Classes(position, deadline, this))
        {
            var next = Step(state, cls);
            if (next >= 0)
            {
                moves.Add(new Move(cls, members, next));
            }
        }

        return moves;
    }

    /// <summary>The optional operations called by <paramref name="deadline"/>, by class at <paramref name="position"/>, each class in call order.</summary>
    private List<(int Class, int[] Members)> ClassesOf(int position, long deadline)
    {
        var byClass = new Dictionary<int, List<int>>();
        var order = new List<int>();
        for (var i = 0; i < _optional.Length && _optional[i].Call <= deadline; i++)
        {
            var cls = ClassOf(i, position);
            if (!byClass.TryGetValue(cls, out var members))
            {
                byClass[cls] = members = [];
                order.Add(cls);
            }

            members.Add(i);
        }

        return [.. order.Select(c => (c, byClass[c].ToArray()))];
    }

    /// <summary>The earliest-called member not yet consumed, or -1.</summary>
    private static int Head(int[] members, Bits consumed)
    {
        foreach (var member in members)
        {
            if (!consumed.Contains(member))
            {
                return member;
            }
        }

        return -1;
    }

    /// <summary>Whether any optional operation changes class between the two positions (after the first, up to the second).</summary>
    private bool ClassesChange(int from, int to)
    {
        if (to == from || _changes.Length == 0)
        {
            return false;
        }

        var i = Array.BinarySearch(_changes, from + 1);
        i = i < 0 ? ~i : i;
        return i < _changes.Length && _changes[i] <= to;
    }

    private Signature SignatureOf(Bits consumed, int position)
    {
        var classes = new List<int>();
        foreach (var i in consumed.Members())
        {
            classes.Add(ClassOf(i, position));
        }

        return Signature.Of(classes);
    }

    private int ClassOf(int optional, int position)
    {
        var stages = _stages[optional];
        var s = stages.Length - 1;
        while (stages[s].From > position)
        {
            s--;
        }

        return stages[s].Class;
    }

    /// <summary>
    /// For each value some operation observes, the position (in call order of the required operations)
    /// from which none still to come does; <see cref="Never"/> when an optional operation observes it, or
    /// null when the model cannot say what operations observe.
    /// </summary>
    private Dictionary<string, int>? Deaths()
    {
        var deaths = new Dictionary<string, int>();
        for (var i = 0; i < _required.Length + _optional.Length; i++)
        {
            var op = i < _required.Length ? _required[i] : _optional[i - _required.Length];
            var observed = _model.Observes(op.Effect);
            if (observed is null)
            {
                return null;
            }

            foreach (var value in observed)
            {
                deaths[value] = i < _required.Length ? Math.Max(deaths.GetValueOrDefault(value), i + 1) : Never;
            }
        }

        return deaths;
    }

    private Operation Forget(Operation effect, Dictionary<string, int>? deaths, int position) =>
        deaths is null ? effect : _model.Forget(effect, value => deaths.GetValueOrDefault(value) <= position);

    /// <summary>An optional operation's class from each position on where it changes.</summary>
    private Stage[] Stages(Operation effect, Dictionary<string, int>? deaths)
    {
        var stages = new List<Stage> { new(0, EffectOf(Forget(effect, deaths, 0))) };
        var points = new[] { effect.Value, effect.Expected }
            .Where(v => v is not null && deaths is not null && deaths.TryGetValue(v, out var d) && d is > 0 and < Never)
            .Select(v => deaths![v!])
            .Distinct()
            .Order();
        foreach (var point in points)
        {
            var cls = EffectOf(Forget(effect, deaths, point));
            if (cls != stages[^1].Class)
            {
                stages.Add(new Stage(point, cls));
            }
        }

        return [.. stages];
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

    /// <summary>An optional operation of class <see cref="Class"/> (one of <see cref="Members"/>), leaving <see cref="State"/>.</summary>
    private readonly record struct Move(int Class, int[] Members, int State);

    /// <summary>From position <see cref="From"/> on, an optional operation is of class <see cref="Class"/> (an effect id).</summary>
    private readonly record struct Stage(int From, int Class);

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
        private readonly Dictionary<(Linearized Known, int State), List<Signature>> _visited = [];
        private readonly Dictionary<(int, long), List<(int Class, int[] Members)>> _classes = [];
        private readonly Dictionary<(int, int, long), List<Move>> _moves = [];

        public int Lo { get; } = lo;

        public int Count { get; } = count;

        public ConfigSet Ends { get; } = new();

        public List<(int Class, int[] Members)> Classes(int position, long deadline, KeySearch<TState> search)
        {
            if (!_classes.TryGetValue((position, deadline), out var classes))
            {
                _classes[(position, deadline)] = classes = search.ClassesOf(position, deadline);
            }

            return classes;
        }

        public List<Move> Moves(int state, int position, long deadline, KeySearch<TState> search)
        {
            if (!_moves.TryGetValue((state, position, deadline), out var moves))
            {
                _moves[(state, position, deadline)] = moves = search.MovesOf(this, state, position, deadline);
            }

            return moves;
        }

        /// <summary>
        /// Records a node, or returns false when a visited node with the same operations linearized and
        /// the same state consumed no more of any class: everything below this one is below that one.
        /// </summary>
        public bool Remember(Linearized known, Config config)
        {
            if (!_visited.TryGetValue((known, config.State), out var seen))
            {
                _visited[(known, config.State)] = [config.Signature];
                return true;
            }

            foreach (var other in seen)
            {
                if (other.IsCoveredBy(config.Signature))
                {
                    return false;
                }
            }

            seen.RemoveAll(other => config.Signature.IsCoveredBy(other));
            seen.Add(config.Signature);
            return true;
        }
    }
}

/// <summary>
/// A model state (interned), the optional operations (by index) linearized to reach it, and their
/// counts per class where it was made.
/// </summary>
internal readonly record struct Config(int State, Bits Consumed, Signature Signature);

/// <summary>
/// Configurations kept free of dominated ones, in the order first added. One added later that
/// dominates earlier ones makes them dead; they keep their index so a scan over the set can go on.
/// All members must have their signatures taken at the same position.
/// </summary>
internal sealed class ConfigSet
{
    private readonly List<Config> _all = [];
    private readonly List<bool> _live = [];
    private readonly Dictionary<int, List<int>> _byState = [];

    public int Count => _all.Count;

    public Config this[int index] => _all[index];

    public bool IsLive(int index) => _live[index];

    /// <summary>Adds the configuration unless one with its state that consumed no more of any class is here.</summary>
    public bool Add(Config config)
    {
        if (!_byState.TryGetValue(config.State, out var same))
        {
            _byState[config.State] = same = [];
        }

        foreach (var index in same)
        {
            if (_all[index].Signature.IsCoveredBy(config.Signature))
            {
                return false;
            }
        }

        same.RemoveAll(index =>
        {
            var dominated = config.Signature.IsCoveredBy(_all[index].Signature);
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
