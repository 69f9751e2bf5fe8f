using System.Text.RegularExpressions;

namespace Vigil.Deploy.Tests;

/// <summary>
/// docker-compose.yml (and the production override) against the services' real configuration: every
/// project is in it, every key it sets is read by the service it is given to, every loopback default is
/// replaced, every address points at the right port, and the start order follows health.
/// </summary>
public sealed partial class ComposeConsistencyTests
{
    private static readonly string[] ComposeFiles = ["docker-compose.yml", "deploy/compose/production.yml"];

    private static ComposeFile Development => ComposeFile.Load("docker-compose.yml");

    private static ComposeFile Production => ComposeFile.Load(ComposeFiles);

    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    [Theory]
    [MemberData(nameof(Projects))]
    public void Every_project_is_a_compose_service_built_from_its_dockerfile(string name)
    {
        var project = Repository.Project(name);
        Assert.True(Development.Services.TryGetValue(name, out var service), $"docker-compose.yml has no service '{name}' for {project.ProjectPath}");
        Assert.Equal(project.DockerfilePath, service!.Dockerfile);
        Assert.True(File.Exists(Repository.Path(project.DockerfilePath)), $"{project.DockerfilePath} is missing");
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Every_key_compose_sets_is_read_by_the_service(string name)
    {
        var schema = ConfigurationSchema.For(Repository.Project(name));
        foreach (var compose in new[] { ("docker-compose.yml", Development), ("with deploy/compose/production.yml", Production) })
        {
            var unread = compose.Item2.Services[name].Environment.Keys.Where(k => !schema.Reads(k)).ToList();
            Assert.True(unread.Count == 0,
                $"{compose.Item1}: {name} is given keys it never reads: {string.Join(", ", unread)} (its sections: {string.Join(", ", schema.Sections)})");
        }
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Every_loopback_default_is_replaced_by_compose(string name)
    {
        var schema = ConfigurationSchema.For(Repository.Project(name));
        foreach (var compose in new[] { ("docker-compose.yml", Development), ("with deploy/compose/production.yml", Production) })
        {
            var env = compose.Item2.Services[name].Environment;
            var missing = schema.LoopbackDefaults
                .Where(k => !env.TryGetValue(k.Replace(":", "__", StringComparison.Ordinal), out var v) || ConfigurationSchema.IsLoopback(v))
                .ToList();
            Assert.True(missing.Count == 0,
                $"{compose.Item1}: {name} would reach itself in its container: set {string.Join(", ", missing.Select(k => k.Replace(":", "__", StringComparison.Ordinal)))}");
        }
    }

    [Fact]
    public void The_schema_knows_the_real_keys_and_refuses_others()
    {
        // Guards the test above against a schema that accepts everything.
        var session = ConfigurationSchema.For(Repository.Project("session"));
        Assert.True(session.Reads("Redis__Configuration"));
        Assert.True(session.Reads("Hosting__ShutdownTimeout"));
        Assert.True(session.Reads("Kestrel__Endpoints__Grpc__Url"));
        Assert.False(session.Reads("Redis__Configuraton"));
        Assert.False(session.Reads("Photos__ActiveKeyId"));
        Assert.False(session.Reads("Hosting__ShutdownTimeout__Extra"));
        Assert.Contains("Redis:Configuration", session.LoopbackDefaults);

        var identity = ConfigurationSchema.For(Repository.Project("identity"));
        Assert.True(identity.Reads("Photos__EncryptionKeys__0__Key"));
        Assert.False(identity.Reads("Photos__EncryptionKeys__first__Key"));

        // A nested section (Gateway:SignIn) is read key by key.
        var gateway = ConfigurationSchema.For(Repository.Project("gateway"));
        Assert.True(gateway.Reads("Gateway__SignIn__ClientSecret"));
        Assert.False(gateway.Reads("Gateway__SignIn__ClientSecrets"));
        Assert.False(gateway.Reads("Gateway__ClientSecret"));
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Health_check_and_published_ports_match_kestrel(string name)
    {
        var project = Repository.Project(name);
        var service = Development.Services[name];
        var probe = service.HealthCheck.Select(t => Uri.TryCreate(t, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : null).SingleOrDefault(u => u is not null);
        Assert.True(probe is not null, $"{name}: the compose health check must probe an HTTP URL (it has: {string.Join(' ', service.HealthCheck)})");
        Assert.Equal(project.ManagementPort, probe!.Port);
        Assert.Equal("/health/ready", probe.AbsolutePath);
        foreach (var published in service.Ports)
        {
            var container = int.Parse(published.Split(':').Last().Split('/')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains(container, new[] { project.GrpcPort, project.ManagementPort });
        }
    }

    [Fact]
    public void Only_the_gateway_and_the_development_provider_are_published_the_gateway_on_its_kestrel_ports()
    {
        // The provider is published for the browser's sign-in and the CLI on the host (ProviderComposeTests holds
        // it to its issuer's port); no service, no data store.
        var gateway = Repository.Project("gateway");
        var published = Development.Services.Values.Where(s => s.Ports.Count > 0).Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["gateway", "provider"], published);
        var ports = Development.Services["gateway"].Ports.Select(p => int.Parse(p.Split(':').Last(), System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(new[] { gateway.GrpcPort, gateway.ManagementPort }.Order().ToList(), ports);
    }

    [Fact]
    public void Addresses_of_other_services_use_their_kestrel_ports()
    {
        var byName = Repository.Projects.ToDictionary(p => p.Name);
        var checkedAddresses = 0;
        foreach (var service in Production.Services.Values)
        {
            foreach (var (key, value) in service.Environment)
            {
                foreach (Match m in Address().Matches(value))
                {
                    if (!byName.TryGetValue(m.Groups["host"].Value, out var target)) continue;
                    var port = int.Parse(m.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
                    var expected = key.EndsWith("Health", StringComparison.Ordinal) ? target.ManagementPort : target.GrpcPort;
                    Assert.True(port == expected, $"{service.Name}: {key}={value} must use {target.Name}'s port {expected} (Kestrel in {target.ProjectPath}/appsettings.json)");
                    checkedAddresses++;
                }
            }
        }
        Assert.True(checkedAddresses >= 4, "expected the session's and the gateway's service addresses");
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Start_is_ordered_by_health_and_stop_waits_for_the_drain(string name)
    {
        var service = Development.Services[name];
        var schema = ConfigurationSchema.For(Repository.Project(name));
        if (schema.Sections.Contains("Redis")) Assert.Contains("redis", service.DependsOn);
        if (schema.Sections.Contains("RabbitMq")) Assert.Contains("rabbitmq", service.DependsOn);
        Assert.True(service.ReadOnly, $"{name}: read_only: true, like Kubernetes' readOnlyRootFilesystem");
        // Compose's default of 10 s would kill a draining service: at least drain delay + shutdown timeout.
        var grace = service.StopGracePeriod is { } g && g.EndsWith('s') ? int.Parse(g[..^1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        Assert.True(grace > 2 + 25, $"{name}: stop_grace_period {service.StopGracePeriod} must exceed Hosting:DrainDelay + Hosting:ShutdownTimeout");
    }

    [Fact]
    public void Redis_is_durable_in_compose()
    {
        var text = Repository.Read("docker-compose.yml");
        Assert.Matches(@"""--appendonly"",\s*""yes""", text);
        Assert.Matches(@"""--appendfsync"",\s*""always""", text);
        Assert.Contains("redis-data:/data", text, StringComparison.Ordinal);
        Assert.Contains("rabbitmq-data:/var/lib/rabbitmq", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_override_takes_every_secret_from_the_environment()
    {
        var text = Repository.Read("deploy/compose/production.yml");
        foreach (var service in ComposeFile.Load("deploy/compose/production.yml").Services.Values)
        {
            foreach (var (key, value) in service.Environment)
            {
                if (!IsSecret(key)) continue;
                Assert.True(value.Contains("${", StringComparison.Ordinal) && value.Contains(":?", StringComparison.Ordinal),
                    $"{service.Name}: {key} must come from a required variable (${{NAME:?message}}), not a value in the file");
            }
            if (service.Environment.TryGetValue("ASPNETCORE_ENVIRONMENT", out var env)) Assert.Equal("Production", env);
        }
        Assert.DoesNotContain("DevelopmentKey", text, StringComparison.Ordinal);
    }

    internal static bool IsSecret(string key) =>
        !key.EndsWith("KeyId", StringComparison.Ordinal)
        && (Regex.IsMatch(key, "(Key|Keys__[0-9]+|Token|Password|PASS|Secret|Pem)$", RegexOptions.IgnoreCase) || key is "RabbitMq__Uri");

    [GeneratedRegex(@"https?://(?<host>[a-z0-9-]+):(?<port>\d+)")]
    private static partial Regex Address();
}
