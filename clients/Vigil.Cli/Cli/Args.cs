namespace Vigil.Cli.Cli;

/// <summary>Command-line arguments: positional words, "--name value" options and "--flag" switches.</summary>
internal sealed class Args
{
    private static readonly HashSet<string> Switches = new(StringComparer.Ordinal)
    {
        "json", "watch", "help", "once", "awaiting", "no-final-check", "quiet",
    };

    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                string? value = null;
                var eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                else if (!Switches.Contains(name) && i + 1 < list.Count)
                {
                    value = list[++i];
                }
                if (!_options.TryGetValue(name, out var values)) _options[name] = values = [];
                values.Add(value ?? "true");
            }
            else
            {
                Positional.Add(a);
            }
        }
    }

    /// <summary>The words that are not options, in order.</summary>
    public List<string> Positional { get; } = [];

    /// <summary>An option's last value, or null.</summary>
    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v[^1] : null;

    /// <summary>An option's values (repeated options, or a comma-separated value).</summary>
    public IReadOnlyList<string> GetAll(string name) =>
        _options.TryGetValue(name, out var v)
            ? v.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : [];

    /// <summary>A required option.</summary>
    public string Require(string name) =>
        Get(name) is { Length: > 0 } v ? v : throw new UsageException($"--{name} is required.");

    /// <summary>Whether a switch is on.</summary>
    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>The positional word at an index, or a usage error.</summary>
    public string Word(int index, string what) =>
        index < Positional.Count ? Positional[index] : throw new UsageException($"Missing {what}.");
}

/// <summary>A mistake in the command line: shown with the usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
