using System.Collections;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vigil.Deploy.Tests;

/// <summary>
/// The configuration keys a project reads, taken from the project itself: its options classes (every
/// class with a <c>const string Section</c>, in its build output and in Vigil.ServiceDefaults for the parts it
/// wires up), its appsettings*.json, and the literal keys its code reads (service client addresses,
/// <c>Configuration["…"]</c>). Used to hold docker-compose.yml to what the services really read.
/// </summary>
public sealed partial class ConfigurationSchema
{
    // Read by the .NET host, ASP.NET Core and OpenTelemetry from the environment, not from a Vigil section.
    private static readonly string[] HostPrefixes = ["ASPNETCORE_", "DOTNET_", "OTEL_"];

    private readonly List<string[]> _patterns = [];
    private readonly List<string> _prefixes = [];

    /// <summary>Keys whose default (in code or appsettings.json) is a loopback address: a container must override them.</summary>
    public SortedSet<string> LoopbackDefaults { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The sections found, for messages.</summary>
    public SortedSet<string> Sections { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static ConfigurationSchema For(DeployedProject project)
    {
        var schema = new ConfigurationSchema();
        var source = string.Join('\n', project.SourceFiles.Select(File.ReadAllText));

        // Options classes of the project itself, from its build output.
        var assembly = new ProjectLoadContext(project.BuiltAssembly).LoadFromAssemblyPath(project.BuiltAssembly);
        foreach (var type in LoadableTypes(assembly)) schema.AddOptionsType(type);

        // Vigil.ServiceDefaults' options, for the parts the project wires up.
        var defaults = typeof(Vigil.ServiceDefaults.Hosting.HostingOptions).Assembly;
        if (source.Contains("AddServiceDefaults(", StringComparison.Ordinal))
        {
            schema.AddOptionsType(typeof(Vigil.ServiceDefaults.Hosting.HostingOptions));
            schema.AddOptionsType(typeof(Vigil.ServiceDefaults.Auth.AuthOptions));
        }
        if (source.Contains("AddVigilRedis(", StringComparison.Ordinal)) schema.AddOptionsType(defaults.GetType("Vigil.ServiceDefaults.Redis.RedisOptions", throwOnError: true)!);
        if (source.Contains("AddVigilMessaging(", StringComparison.Ordinal)) schema.AddOptionsType(defaults.GetType("Vigil.ServiceDefaults.Messaging.RabbitMqOptions", throwOnError: true)!);

        // Literal keys read by code: service client addresses, Configuration["…"], GetValue<T>("…"), GetSection("…").
        foreach (Match m in LiteralKey().Matches(source)) schema._patterns.Add(Split(m.Groups["key"].Value));
        foreach (Match m in LiteralSection().Matches(source)) schema._prefixes.Add(m.Groups["key"].Value + ":");

        // appsettings*.json: every leaf is a key the project knows.
        foreach (var file in Directory.EnumerateFiles(Repository.Path(project.ProjectPath), "appsettings*.json"))
        {
            var isBase = Path.GetFileName(file) == "appsettings.json";
            using var doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            foreach (var (key, value) in Flatten(doc.RootElement, string.Empty))
            {
                if (key.Split(':').Last() == "//") continue; // a comment entry
                schema._patterns.Add(Split(key));
                if (isBase && !key.StartsWith("Kestrel:", StringComparison.OrdinalIgnoreCase) && IsLoopback(value)) schema.LoopbackDefaults.Add(key);
            }
        }
        schema._prefixes.Add("Logging:"); // any log category
        return schema;
    }

    /// <summary>Whether the project reads this key ("A:B:0:C" or "A__B__0__C").</summary>
    public bool Reads(string key)
    {
        if (HostPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal))) return true;
        var normalized = key.Replace("__", ":", StringComparison.Ordinal);
        if (_prefixes.Any(p => normalized.StartsWith(p, StringComparison.OrdinalIgnoreCase))) return true;
        var parts = Split(normalized);
        return _patterns.Any(p => Matches(p, parts));
    }

    private static bool Matches(string[] pattern, string[] parts)
    {
        if (pattern.Length != parts.Length) return false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var ok = pattern[i] switch
            {
                "#" => int.TryParse(parts[i], out _),
                "*" => true,
                _ => string.Equals(pattern[i], parts[i], StringComparison.OrdinalIgnoreCase),
            };
            if (!ok) return false;
        }
        return true;
    }

    private void AddOptionsType(Type type)
    {
        var field = type.GetField("Section", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
        if (field is not { IsLiteral: true } || field.GetRawConstantValue() is not string section) return;
        Sections.Add(section);
        object? instance = null;
        try
        {
            instance = Activator.CreateInstance(type, nonPublic: true);
        }
        catch (MissingMethodException)
        {
        }
        // A nested section ("Gateway:SignIn") is one level per part, like the keys it is matched with.
        AddProperties(type, [.. section.Split(':')], instance, depth: 0);
    }

    private void AddProperties(Type type, List<string> path, object? instance, int depth)
    {
        if (depth > 6) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0) continue;
            var writable = property.SetMethod is { IsPublic: true };
            var propertyType = property.PropertyType;
            var element = CollectionElement(propertyType, out var keyed);
            if (!writable && element is null) continue; // binder fills get-only collections only
            var here = new List<string>(path) { property.Name };
            object? value = null;
            try
            {
                value = instance is null ? null : property.GetValue(instance);
            }
            catch (TargetInvocationException)
            {
            }

            if (element is not null)
            {
                here.Add(keyed ? "*" : "#");
                if (IsLeaf(element)) _patterns.Add([.. here]);
                else AddProperties(element, here, null, depth + 1);
            }
            else if (IsLeaf(propertyType))
            {
                _patterns.Add([.. here]);
                if (value is string s && IsLoopback(s)) LoopbackDefaults.Add(string.Join(':', here));
            }
            else
            {
                AddProperties(propertyType, here, value, depth + 1);
            }
        }
    }

    private static Type? CollectionElement(Type type, out bool keyed)
    {
        keyed = false;
        if (type == typeof(string)) return null;
        if (type.IsArray) return type.GetElementType();
        if (!typeof(IEnumerable).IsAssignableFrom(type)) return null;
        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is not null)
        {
            keyed = true;
            return dictionary.GetGenericArguments()[1];
        }
        var enumerable = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static bool IsLeaf(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(DateTime)
            || t == typeof(DateTimeOffset) || t == typeof(Uri) || t == typeof(Guid);
    }

    public static bool IsLoopback(string? value) =>
        value is not null && (value.Contains("127.0.0.1", StringComparison.Ordinal) || value.Contains("localhost", StringComparison.OrdinalIgnoreCase) || value.Contains("[::1]", StringComparison.Ordinal));

    private static string[] Split(string key) => key.Replace("__", ":", StringComparison.Ordinal).Split(':');

    private static IEnumerable<(string Key, string? Value)> Flatten(JsonElement element, string prefix)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                    foreach (var x in Flatten(p.Value, prefix.Length == 0 ? p.Name : prefix + ":" + p.Name)) yield return x;
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                    foreach (var x in Flatten(item, prefix + ":" + i++)) yield return x;
                break;
            default:
                yield return (prefix, element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText());
                break;
        }
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.Where(t => t is not null)!;
        }
    }

    [GeneratedRegex("""(?:AddVigilServiceClient<[^>]+>\([^")]*|Configuration\[|GetValue<[^>]+>\()\s*"(?<key>[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_]+)*)"(?:\)|\])""")]
    private static partial Regex LiteralKey();

    [GeneratedRegex("""GetSection\(\s*"(?<key>[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_]+)*)"\s*\)""")]
    private static partial Regex LiteralSection();

    /// <summary>Loads a project's build output with its own dependencies; the shared framework comes from the default context.</summary>
    private sealed class ProjectLoadContext(string mainAssembly) : AssemblyLoadContext(isCollectible: true)
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainAssembly);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // Share what the tests already loaded (Vigil.ServiceDefaults, the framework): one copy of each type.
            if (Default.Assemblies.FirstOrDefault(a => a.GetName().Name == assemblyName.Name) is { } loaded) return loaded;
            var path = _resolver.ResolveAssemblyToPath(assemblyName);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
