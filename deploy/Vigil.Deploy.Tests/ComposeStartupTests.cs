using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Vigil.Testing;

namespace Vigil.Deploy.Tests;

/// <summary>
/// Each service and the gateway started as a real process with exactly the environment docker compose
/// would give it (the addresses of Redis and RabbitMQ swapped for the test servers'): a key the service
/// requires and compose forgets makes it refuse to start, and the test fails with its message.
/// </summary>
public sealed partial class ComposeStartupTests
{
    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task Starts_with_the_development_compose_environment(string name)
    {
        var env = ComposeFile.Load("docker-compose.yml").Services[name].Environment;
        await StartAndStopAsync(name, env);
    }

    internal static async Task StartAndStopAsync(string name, IDictionary<string, string> composeEnvironment)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in composeEnvironment)
        {
            settings[key] = value switch
            {
                _ when key == "Redis__Configuration" => TestEnvironment.Redis,
                // The default virtual host: no other suite uses it, so no consumer here takes their messages.
                _ when value.StartsWith("amqp://", StringComparison.Ordinal) => TestEnvironment.RabbitMq(string.Empty),
                _ => value,
            };
        }
        var project = Repository.Project(name);
        await using var process = await ServiceProcess.StartAsync(project.ProjectPath, settings, timeout: TimeSpan.FromSeconds(60));
        Assert.False(process.HasExited, process.Output);
        // SIGTERM, as docker compose stop sends it: the drain runs and the process exits well within stop_grace_period.
        var exit = await process.TerminateAsync(TimeSpan.FromSeconds(40));
        Assert.True(exit == 0, $"{name} exited with {exit} after SIGTERM:\n{process.Output}");
    }

    /// <summary>What an operator puts in .env for the production override: real, freshly made keys.</summary>
    internal static Dictionary<string, string> ProductionVariables()
    {
        using var jwt = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["VIGIL_RABBITMQ_PASSWORD"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ["VIGIL_AUTH_ISSUER"] = "https://id.school.test/",
            ["VIGIL_AUTH_SIGNING_KEY"] = jwt.ExportSubjectPublicKeyInfoPem(),
            ["VIGIL_IDENTITY_SERVICE_TOKEN"] = "token-identity",
            ["VIGIL_SESSION_SERVICE_TOKEN"] = "token-session",
            ["VIGIL_CERTIFICATE_SERVICE_TOKEN"] = "token-certificate",
            ["VIGIL_PHOTO_KEY_ID"] = "photos-2026-11",
            ["VIGIL_PHOTO_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["VIGIL_CERTIFICATE_KEY_ID"] = "certificates-2026-11",
            ["VIGIL_CERTIFICATE_SIGNING_KEY"] = certificate.ExportPkcs8PrivateKeyPem(),
        };
    }

    /// <summary>Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}; a required one that is missing fails the test.</summary>
    internal static string Interpolate(string value, IReadOnlyDictionary<string, string> variables) =>
        Variable().Replace(value, m =>
        {
            var name = m.Groups["name"].Value;
            if (variables.TryGetValue(name, out var v) && v.Length > 0) return v;
            return m.Groups["op"].Value switch
            {
                ":-" => m.Groups["arg"].Value,
                ":?" => throw new InvalidOperationException($"compose would refuse to start: {name} is required ({m.Groups["arg"].Value})"),
                _ => string.Empty,
            };
        });

    [Fact]
    public void Interpolation_follows_compose()
    {
        var vars = new Dictionary<string, string> { ["A"] = "1" };
        Assert.Equal("x1y", Interpolate("x${A}y", vars));
        Assert.Equal("d", Interpolate("${B:-d}", vars));
        Assert.Throws<InvalidOperationException>(() => Interpolate("${B:?set B}", vars));
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:[-?])(?<arg>[^}]*))?\}")]
    private static partial Regex Variable();
}

/// <summary>The same with the production override (a class of its own so both run side by side).</summary>
public sealed class ComposeProductionStartupTests
{
    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task Starts_in_production_with_the_production_override(string name)
    {
        var env = ComposeFile.Load("docker-compose.yml", "deploy/compose/production.yml").Services[name].Environment;
        Assert.Equal("Production", env["ASPNETCORE_ENVIRONMENT"]);
        var variables = ComposeStartupTests.ProductionVariables();
        var resolved = env.ToDictionary(kv => kv.Key, kv => ComposeStartupTests.Interpolate(kv.Value, variables));
        // ServiceProcess always sets the development key for convenience; production must run without it.
        resolved["Auth__DevelopmentKey"] = string.Empty;
        await ComposeStartupTests.StartAndStopAsync(name, resolved);
    }
}
