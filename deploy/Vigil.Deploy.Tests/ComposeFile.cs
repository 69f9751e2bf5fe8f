using YamlDotNet.RepresentationModel;

namespace Vigil.Deploy.Tests;

/// <summary>One service of a compose file, as far as the tests need it.</summary>
public sealed class ComposeService
{
    public required string Name { get; init; }

    /// <summary>The environment: "Redis__Configuration" → "redis:6379" (list and map forms both read).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string? Dockerfile { get; set; }

    public List<string> HealthCheck { get; } = [];

    /// <summary>Published ports as written ("5100:5100").</summary>
    public List<string> Ports { get; } = [];

    public List<string> DependsOn { get; } = [];

    public string? StopGracePeriod { get; set; }

    public bool ReadOnly { get; set; }

    /// <summary>The profiles that enable it (none: always enabled).</summary>
    public List<string> Profiles { get; } = [];

    /// <summary>deploy.replicas, when set.</summary>
    public int? Replicas { get; set; }
}

/// <summary>A docker compose file, or several merged in order like `docker compose -f a -f b`.</summary>
public sealed class ComposeFile
{
    public Dictionary<string, ComposeService> Services { get; } = new(StringComparer.Ordinal);

    public static ComposeFile Load(params string[] relativePaths)
    {
        var compose = new ComposeFile();
        foreach (var path in relativePaths)
        {
            var yaml = new YamlStream();
            using var reader = new StringReader(Repository.Read(path));
            yaml.Load(reader);
            var root = (YamlMappingNode)yaml.Documents[0].RootNode;
            if (!root.Children.TryGetValue(new YamlScalarNode("services"), out var servicesNode)) continue;
            foreach (var (key, value) in ((YamlMappingNode)servicesNode).Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                if (!compose.Services.TryGetValue(name, out var service))
                {
                    compose.Services[name] = service = new ComposeService { Name = name };
                }
                Merge(service, (YamlMappingNode)value);
            }
        }
        return compose;
    }

    private static void Merge(ComposeService service, YamlMappingNode node)
    {
        foreach (var (k, v) in node.Children)
        {
            switch (((YamlScalarNode)k).Value)
            {
                case "environment" when v is YamlMappingNode map:
                    foreach (var (ek, ev) in map.Children) service.Environment[((YamlScalarNode)ek).Value!] = (ev as YamlScalarNode)?.Value ?? string.Empty;
                    break;
                case "environment" when v is YamlSequenceNode list:
                    foreach (var item in list.Children.Cast<YamlScalarNode>())
                    {
                        var text = item.Value!;
                        var eq = text.IndexOf('=', StringComparison.Ordinal);
                        service.Environment[eq < 0 ? text : text[..eq]] = eq < 0 ? string.Empty : text[(eq + 1)..];
                    }
                    break;
                case "build" when v is YamlMappingNode build:
                    if (build.Children.TryGetValue(new YamlScalarNode("dockerfile"), out var dockerfile)) service.Dockerfile = ((YamlScalarNode)dockerfile).Value;
                    break;
                case "healthcheck" when v is YamlMappingNode health:
                    if (health.Children.TryGetValue(new YamlScalarNode("test"), out var test))
                    {
                        service.HealthCheck.Clear();
                        if (test is YamlSequenceNode seq) service.HealthCheck.AddRange(seq.Children.Cast<YamlScalarNode>().Select(s => s.Value!));
                        else service.HealthCheck.Add(((YamlScalarNode)test).Value!);
                    }
                    break;
                case "ports" when v is YamlSequenceNode ports:
                    service.Ports.AddRange(ports.Children.OfType<YamlScalarNode>().Select(s => s.Value!));
                    break;
                case "depends_on" when v is YamlMappingNode deps:
                    service.DependsOn.AddRange(deps.Children.Keys.Cast<YamlScalarNode>().Select(s => s.Value!));
                    break;
                case "depends_on" when v is YamlSequenceNode deps:
                    service.DependsOn.AddRange(deps.Children.Cast<YamlScalarNode>().Select(s => s.Value!));
                    break;
                case "stop_grace_period":
                    service.StopGracePeriod = ((YamlScalarNode)v).Value;
                    break;
                case "read_only":
                    service.ReadOnly = ((YamlScalarNode)v).Value == "true";
                    break;
                case "profiles" when v is YamlSequenceNode profiles:
                    service.Profiles.AddRange(profiles.Children.Cast<YamlScalarNode>().Select(s => s.Value!));
                    break;
                case "deploy" when v is YamlMappingNode deploy:
                    if (deploy.Children.TryGetValue(new YamlScalarNode("replicas"), out var replicas))
                    {
                        service.Replicas = int.Parse(((YamlScalarNode)replicas).Value!, System.Globalization.CultureInfo.InvariantCulture);
                    }
                    break;
            }
        }
    }
}
