using System.Globalization;
using System.Text;

namespace Cluster.Cli.Commands;

/// <summary>One defined flag: its name, help and how text becomes its value.</summary>
internal abstract class Flag(string name, string help, string? placeholder, string section)
{
    public string Name { get; } = name;

    public string Help { get; } = help;

    /// <summary>Shown as <c>-name=&lt;placeholder&gt;</c> in help; null for a boolean flag, which takes no argument.</summary>
    public string? Placeholder { get; } = placeholder;

    public string Section { get; } = section;

    public bool IsBool => Placeholder is null;

    /// <summary>Sets the value from <paramref name="text"/>; false if it does not parse.</summary>
    public abstract bool TrySet(string text);
}

/// <summary>A flag whose value the command reads after parsing.</summary>
internal sealed class Flag<T>(string name, string help, string? placeholder, string section, T initial, Flag<T>.Parser parse)
    : Flag(name, help, placeholder, section)
{
    /// <summary>Turns one occurrence's text into the new value; <paramref name="current"/> lets repeated flags accumulate.</summary>
    public delegate bool Parser(string text, T current, out T value);

    public T Value { get; private set; } = initial;

    /// <summary>Whether the flag appeared on the command line at all.</summary>
    public bool IsSet { get; private set; }

    public override bool TrySet(string text)
    {
        if (!parse(text, Value, out var value))
        {
            return false;
        }

        Value = value;
        IsSet = true;
        return true;
    }
}

/// <summary>
/// Flags the way Go's flag package (and so Consul's CLI) reads them: <c>-name=value</c>,
/// <c>-name value</c>, <c>--name</c> alike; a boolean takes no separate argument
/// (<c>-cas=false</c>, never <c>-cas false</c>); parsing stops at the first argument that is
/// not a flag, at a lone <c>-</c> and after <c>--</c>, so <c>kv put KEY -x</c> stores "-x".
/// </summary>
internal sealed class FlagSet(string usage, string description)
{
    public const string HttpSection = "HTTP API Options";
    public const string CommandSection = "Command Options";

    private readonly Dictionary<string, Flag> _flags = new(StringComparer.Ordinal);

    public Flag<bool> Bool(string name, string help, string section = CommandSection) =>
        Add(new Flag<bool>(name, help, null, section, false, (string text, bool _, out bool value) => Cluster.Agent.Config.GoBool.TryParse(text, out value)));

    public Flag<string> String(string name, string help, string initial = "", string placeholder = "string", string section = CommandSection) =>
        Add(new Flag<string>(name, help, placeholder, section, initial, (string text, string _, out string value) =>
        {
            value = text;
            return true;
        }));

    public Flag<ulong> UInt64(string name, string help, string section = CommandSection) =>
        Add(new Flag<ulong>(name, help, "uint", section, 0, (string text, ulong _, out ulong value) =>
            ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)));

    /// <summary>A flag that may be given many times (<c>-node-meta a=1 -node-meta b=2</c>).</summary>
    public Flag<IReadOnlyList<string>> Repeated(string name, string help, string placeholder, Func<string, bool> valid, string section = CommandSection) =>
        Add(new Flag<IReadOnlyList<string>>(name, help, placeholder, section, [], (string text, IReadOnlyList<string> current, out IReadOnlyList<string> value) =>
        {
            value = [.. current, text];
            return valid(text);
        }));

    /// <summary>
    /// Parses <paramref name="args"/>. Null means carry on with <paramref name="positional"/>;
    /// otherwise the command is over with that exit code: 0 after <c>-h</c> (help on stdout),
    /// 1 after a bad flag (the problem and the help on stderr).
    /// </summary>
    public int? Parse(IReadOnlyList<string> args, CliEnvironment env, out IReadOnlyList<string> positional)
    {
        positional = [];
        var at = 0;
        for (; at < args.Count; at++)
        {
            var arg = args[at];
            if (arg.Length < 2 || arg[0] != '-')
            {
                break;
            }

            if (arg == "--")
            {
                at++;
                break;
            }

            var text = arg[(arg[1] == '-' ? 2 : 1)..];
            if (text.Length == 0 || text[0] is '-' or '=')
            {
                return Fail(env, $"bad flag syntax: {arg}");
            }

            var equals = text.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? text : text[..equals];
            var value = equals < 0 ? null : text[(equals + 1)..];
            if (!_flags.TryGetValue(name, out var flag))
            {
                if (name is "h" or "help")
                {
                    env.Output.WriteLine(Help());
                    return 0;
                }

                return Fail(env, $"flag provided but not defined: -{name}");
            }

            if (flag.IsBool)
            {
                if (!flag.TrySet(value ?? "true"))
                {
                    return Fail(env, $"invalid boolean value \"{value}\" for -{name}: parse error");
                }

                continue;
            }

            if (value is null)
            {
                if (at + 1 == args.Count)
                {
                    return Fail(env, $"flag needs an argument: -{name}");
                }

                value = args[++at];
            }

            if (!flag.TrySet(value))
            {
                return Fail(env, $"invalid value \"{value}\" for flag -{name}: parse error");
            }
        }

        positional = [.. args.Skip(at)];
        return null;
    }

    /// <summary>The command's help, laid out as Consul's is: usage, description, then its flags by section.</summary>
    public string Help()
    {
        var help = new StringBuilder();
        help.Append(CultureInfo.InvariantCulture, $"Usage: cluster {usage}\n\n");
        foreach (var line in description.Split('\n'))
        {
            help.Append(line.Length == 0 ? "\n" : $"  {line}\n");
        }

        foreach (var section in new[] { HttpSection, CommandSection })
        {
            var flags = _flags.Values.Where(f => f.Section == section).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
            if (flags.Count == 0)
            {
                continue;
            }

            help.Append(CultureInfo.InvariantCulture, $"\n{section}\n");
            foreach (var flag in flags)
            {
                var form = flag.IsBool ? $"-{flag.Name}" : $"-{flag.Name}=<{flag.Placeholder}>";
                help.Append(CultureInfo.InvariantCulture, $"\n  {form}\n     {flag.Help}\n");
            }
        }

        return help.ToString().TrimEnd('\n');
    }

    private TFlag Add<TFlag>(TFlag flag)
        where TFlag : Flag
    {
        _flags.Add(flag.Name, flag);
        return flag;
    }

    private int Fail(CliEnvironment env, string problem)
    {
        env.Error.WriteLine(problem);
        env.Error.WriteLine(Help());
        return 1;
    }
}
