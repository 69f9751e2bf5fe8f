using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Vigil.Deploy.Tests;

/// <summary>
/// The rules of every image, read from each project's Dockerfile (there is no Docker engine to build them
/// here): multi-stage from the pinned .NET images, a non-root numeric user, a health check on the
/// management port, the Kestrel ports exposed, and every project the build needs copied into the build stage.
/// </summary>
public sealed partial class DockerfileTests
{
    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    private static readonly string[] RuntimeImages =
    [
        "mcr.microsoft.com/dotnet/aspnet:10.0",
        "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled",
        "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra",
    ];

    internal sealed record Instruction(string Name, string Arguments);

    private static List<List<Instruction>> Stages(DeployedProject project) => Stages(project.DockerfilePath);

    /// <summary>A Dockerfile's stages, each a list of instructions (continuation lines joined, comments dropped).</summary>
    internal static List<List<Instruction>> Stages(string dockerfilePath)
    {
        var text = Repository.Read(dockerfilePath).Replace("\\\n", " ", StringComparison.Ordinal);
        var stages = new List<List<Instruction>>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var instruction = new Instruction(line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (instruction.Name == "FROM") stages.Add([]);
            Assert.True(stages.Count > 0, $"{dockerfilePath}: {instruction.Name} before the first FROM");
            stages[^1].Add(instruction);
        }
        return stages;
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Is_multi_stage_from_the_pinned_dotnet_images(string name)
    {
        var project = Repository.Project(name);
        var stages = Stages(project);
        Assert.True(stages.Count >= 2, $"{project.DockerfilePath}: a build stage and a runtime stage");
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0\S* AS build$", stages[0][0].Arguments);
        var runtime = stages[^1][0].Arguments.Split(' ')[0];
        Assert.Contains(runtime, RuntimeImages);
        // The runtime stage carries build output only, never the sources or the SDK.
        Assert.All(stages[^1].Where(i => i.Name is "COPY" or "ADD"), i => Assert.Contains("--from=build", i.Arguments, StringComparison.Ordinal));
        Assert.Contains(stages[0], i => i.Name == "RUN" && i.Arguments.Contains($"dotnet publish {project.ProjectPath}/{project.AssemblyName}.csproj -c Release", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Runs_as_a_numeric_non_root_user(string name)
    {
        var project = Repository.Project(name);
        var user = Stages(project)[^1].LastOrDefault(i => i.Name == "USER");
        Assert.True(user is not null, $"{project.DockerfilePath}: the runtime stage must set USER");
        var uid = user!.Arguments.Split(':')[0];
        // Numeric, so that Kubernetes' runAsNonRoot can verify it.
        Assert.True(int.TryParse(uid, out var id) && id > 0, $"{project.DockerfilePath}: USER {user.Arguments} must be a numeric uid other than 0");
        Assert.Contains("runAsUser: " + id, Repository.Read("deploy/k8s/base/" + project.Name + ".yaml"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Health_check_probes_readiness_on_the_management_port(string name)
    {
        var project = Repository.Project(name);
        var runtime = Stages(project)[^1];
        var health = runtime.SingleOrDefault(i => i.Name == "HEALTHCHECK");
        Assert.True(health is not null, $"{project.DockerfilePath}: HEALTHCHECK is required");
        // Exec form: the probe runs without a shell (works on chiseled images too).
        Assert.Contains($@"CMD [""dotnet"", ""/probe/Vigil.HealthProbe.dll"", ""http://127.0.0.1:{project.ManagementPort}/health/ready""]", health!.Arguments, StringComparison.Ordinal);
        Assert.Contains(runtime, i => i.Name == "COPY" && i.Arguments == "--from=build /out/probe /probe/");
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Exposes_the_kestrel_ports_and_starts_the_project(string name)
    {
        var project = Repository.Project(name);
        var runtime = Stages(project)[^1];
        var exposed = runtime.Where(i => i.Name == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Order().ToList();
        Assert.Equal(new[] { project.GrpcPort, project.ManagementPort }.Order().ToList(), exposed);
        Assert.Contains(runtime, i => i.Name == "ENTRYPOINT" && i.Arguments == $@"[""dotnet"", ""{project.AssemblyName}.dll""]");
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Build_stage_copies_every_project_the_build_needs(string name)
    {
        var project = Repository.Project(name);
        var copied = Stages(project)[0].Where(i => i.Name == "COPY")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .Select(p => p.TrimEnd('/'))
            .ToList();
        var needed = new SortedSet<string>(StringComparer.Ordinal);
        CollectReferences(project.ProjectPath + "/" + project.AssemblyName + ".csproj", needed);
        needed.Add("deploy/healthprobe/Vigil.HealthProbe/Vigil.HealthProbe.csproj");
        foreach (var csproj in needed)
        {
            var dir = Path.GetDirectoryName(csproj)!.Replace('\\', '/');
            Assert.True(copied.Any(c => dir == c || dir.StartsWith(c + "/", StringComparison.Ordinal)),
                $"{project.DockerfilePath}: the build needs {dir} but no COPY brings it (copied: {string.Join(", ", copied)})");
        }
        foreach (var shared in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" }) Assert.Contains(shared, copied);
        // The contract compiles protos/vigil/**/*.proto.
        if (needed.Any(n => n.StartsWith("protos/", StringComparison.Ordinal))) Assert.Contains("protos/vigil", copied);
    }

    [Fact]
    public void Dockerignore_keeps_build_output_and_local_files_out_of_the_context()
    {
        var lines = Repository.Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToList();
        foreach (var required in new[] { "**/bin/", "**/obj/", ".git/", "tools/node_modules/", "**/.env" }) Assert.Contains(required, lines);
    }

    private static void CollectReferences(string csproj, SortedSet<string> into)
    {
        if (!into.Add(csproj)) return;
        var doc = XDocument.Load(Repository.Path(csproj));
        foreach (var reference in doc.Descendants("ProjectReference"))
        {
            var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
            var full = Path.GetFullPath(Path.Combine(Repository.Path(Path.GetDirectoryName(csproj)!), include));
            CollectReferences(Path.GetRelativePath(Repository.Root, full).Replace('\\', '/'), into);
        }
    }
}
