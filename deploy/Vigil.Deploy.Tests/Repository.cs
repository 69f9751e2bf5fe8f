using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vigil.Deploy.Tests;

/// <summary>One deployable project of the repository: a service under services/ or the gateway.</summary>
/// <param name="Name">The deployment name: "identity", "session", "certificate", "gateway".</param>
/// <param name="ProjectPath">The project folder relative to the root, e.g. "services/identity/Vigil.Identity".</param>
/// <param name="AssemblyName">E.g. "Vigil.Identity".</param>
/// <param name="DockerfilePath">E.g. "services/identity/Dockerfile".</param>
public sealed record DeployedProject(string Name, string ProjectPath, string AssemblyName, string DockerfilePath)
{
    public override string ToString() => Name;

    /// <summary>The project's appsettings.json (parsed).</summary>
    public JsonElement Settings => Repository.ReadJson(Path.Combine(ProjectPath, "appsettings.json"));

    /// <summary>The port of a Kestrel endpoint of appsettings.json ("Grpc" or "Management").</summary>
    public int KestrelPort(string endpoint)
    {
        var url = Settings.GetProperty("Kestrel").GetProperty("Endpoints").GetProperty(endpoint).GetProperty("Url").GetString()!;
        return new Uri(url.Replace("0.0.0.0", "host", StringComparison.Ordinal).Replace("*", "host", StringComparison.Ordinal)).Port;
    }

    public int GrpcPort => KestrelPort("Grpc");

    public int ManagementPort => KestrelPort("Management");

    /// <summary>Every C# source file of the project (build output excluded).</summary>
    public IEnumerable<string> SourceFiles =>
        Directory.EnumerateFiles(Repository.Path(ProjectPath), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal));

    /// <summary>The built assembly in the same configuration as the running tests.</summary>
    public string BuiltAssembly =>
        Repository.Path(ProjectPath, "bin", Repository.BuildConfiguration, "net10.0", AssemblyName + ".dll");
}

/// <summary>The repository on disk: its root and its deployable projects, found by convention.</summary>
public static partial class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built in (Debug or Release), read from their own path.</summary>
    public static string BuildConfiguration { get; } =
        AppContext.BaseDirectory.Split(System.IO.Path.DirectorySeparatorChar).SkipWhile(s => s != "bin").Skip(1).FirstOrDefault() ?? "Debug";

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Read(string relativePath) => File.ReadAllText(Path(relativePath));

    public static JsonElement ReadJson(string relativePath)
    {
        using var doc = JsonDocument.Parse(Read(relativePath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// Every service (services/&lt;name&gt;/Vigil.&lt;Name&gt;, tests excluded) and the gateway: a project
    /// added later is picked up without touching these tests.
    /// </summary>
    public static IReadOnlyList<DeployedProject> Projects { get; } = FindProjects();

    public static IEnumerable<object[]> ProjectData => Projects.Select(p => new object[] { p.Name });

    public static DeployedProject Project(string name) => Projects.Single(p => p.Name == name);

    private static List<DeployedProject> FindProjects()
    {
        var found = new List<DeployedProject>();
        foreach (var serviceDir in Directory.EnumerateDirectories(Path("services")).Order(StringComparer.Ordinal))
        {
            foreach (var projectDir in Directory.EnumerateDirectories(serviceDir))
            {
                var assembly = System.IO.Path.GetFileName(projectDir);
                if (!ProjectName().IsMatch(assembly) || assembly.EndsWith(".Tests", StringComparison.Ordinal)) continue;
                if (!File.Exists(System.IO.Path.Combine(projectDir, assembly + ".csproj"))) continue;
                var service = System.IO.Path.GetFileName(serviceDir);
                found.Add(new DeployedProject(service, $"services/{service}/{assembly}", assembly, $"services/{service}/Dockerfile"));
            }
        }
        found.Add(new DeployedProject("gateway", "gateway/Vigil.Gateway", "Vigil.Gateway", "gateway/Dockerfile"));
        return found;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Vigil.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^Vigil\.[A-Za-z]+$")]
    private static partial Regex ProjectName();
}
