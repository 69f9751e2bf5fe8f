using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Vigil.ServiceDefaults.Storage;

/// <summary>
/// One Lua script of a store, loaded once from the <c>.lua</c> file beside the store (an embedded resource in the
/// store's namespace). Two kinds, one loader:
/// <list type="bullet">
/// <item><b>Named</b> (<see cref="Load"/>), the rule: parameters are written <c>@name</c> in the script and passed
/// as an object whose members carry those names (StackExchange.Redis's <see cref="LuaScript.Prepare"/>); members of
/// type <see cref="RedisKey"/> travel as KEYS (so Redis Cluster routes the script to their slot), the others as
/// ARGV. An <c>@</c> in a named script is always a parameter, comments included.</item>
/// <item><b>Variadic</b> (<see cref="LoadVariadic"/>), the one exception: a script whose number of keys is known
/// only at run time (erasing every key a learner has, deleting the photos a verification step replaces) reads the
/// positional <c>KEYS</c>/<c>ARGV</c> and gets arrays. Every such script says why in its first lines.</item>
/// </list>
/// A line <c>-- include: name.lua</c> is replaced by that file (shared Lua helpers, e.g. the session's incident
/// encoding). Either kind runs as EVALSHA after one SCRIPT LOAD per server, and StackExchange.Redis falls back to
/// EVAL (and reloads) when a server answers NOSCRIPT (a restart, a failover, SCRIPT FLUSH).
/// Scripts are run by <see cref="RedisStorage"/>, never directly.
/// </summary>
public sealed partial class RedisScript
{
    private static readonly ConcurrentDictionary<(Assembly, string), string> Sources = new();

    private readonly LuaScript? _named;

    private RedisScript(string name, string text, bool variadic)
    {
        Name = name;
        Text = text;
        if (variadic)
        {
            if (NamedParameter().IsMatch(text)) throw new InvalidOperationException($"The variadic script {name} uses @parameters: use KEYS and ARGV.");
        }
        else
        {
            if (text.Contains("KEYS[", StringComparison.Ordinal) || text.Contains("ARGV[", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The script {name} reads KEYS or ARGV: name its parameters (@name), or load it as variadic and say why.");
            }
            _named = LuaScript.Prepare(text);
        }
    }

    /// <summary>The script's file name without <c>.lua</c>.</summary>
    public string Name { get; }

    /// <summary>The script's text, includes resolved (before parameter names are replaced).</summary>
    public string Text { get; }

    /// <summary>Whether the script takes positional KEYS and ARGV (a variable number of keys).</summary>
    public bool IsVariadic => _named is null;

    /// <summary>Loads <c>&lt;name&gt;.lua</c> from <typeparamref name="TOwner"/>'s namespace: a script with named parameters.</summary>
    public static RedisScript Load<TOwner>(string name) => new(name, Read(typeof(TOwner), name), variadic: false);

    /// <summary>Loads <c>&lt;name&gt;.lua</c> from <typeparamref name="TOwner"/>'s namespace: a script with a variable number of keys.</summary>
    public static RedisScript LoadVariadic<TOwner>(string name) => new(name, Read(typeof(TOwner), name), variadic: true);

    internal Task<RedisResult> EvaluateAsync(IDatabaseAsync db, object parameters, CommandFlags flags) =>
        _named is { } script
            ? script.EvaluateAsync(db, parameters, flags: flags)
            : throw new InvalidOperationException($"The script {Name} is variadic: pass its KEYS and ARGV.");

    internal Task<RedisResult> EvaluateAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] args, CommandFlags flags) =>
        _named is null
            ? db.ScriptEvaluateAsync(Text, keys, args, flags)
            : throw new InvalidOperationException($"The script {Name} has named parameters: pass an object.");

    private static string Read(Type owner, string name)
    {
        var assembly = owner.Assembly;
        var text = Source(assembly, owner.Namespace, name);
        return IncludeLine().Replace(text, m => Source(assembly, owner.Namespace, Path.GetFileNameWithoutExtension(m.Groups["file"].Value)).TrimEnd() + "\n");
    }

    private static string Source(Assembly assembly, string? ns, string name)
    {
        var resource = (ns is null ? string.Empty : ns + ".") + name + ".lua";
        return Sources.GetOrAdd((assembly, resource), static key =>
        {
            using var stream = key.Item1.GetManifestResourceStream(key.Item2)
                ?? throw new InvalidOperationException($"No embedded script {key.Item2} in {key.Item1.GetName().Name}: is the .lua file beside its store and embedded (<EmbeddedResource Include=\"**/*.lua\" />)?");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        });
    }

    [GeneratedRegex(@"^--\s*include:\s*(?<file>[A-Za-z0-9_.-]+\.lua)\s*$", RegexOptions.Multiline)]
    private static partial Regex IncludeLine();

    [GeneratedRegex(@"(?<![\w@])@[A-Za-z_]")]
    private static partial Regex NamedParameter();
}
