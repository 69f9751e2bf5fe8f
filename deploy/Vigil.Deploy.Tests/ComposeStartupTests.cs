using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Vigil.Testing;

namespace Vigil.Deploy.Tests;

/// <summary>
/// Each service and the gateway started as a real process with exactly the environment docker compose
/// would give it (the addresses of Redis, RabbitMQ and the identity provider swapped for the test servers' and a
/// real development provider's): a key the service requires and compose forgets makes it refuse to start, and the
/// test fails with its message. Nothing of the tests' own token setup is left in: the service trusts only what
/// compose tells it to trust.
/// </summary>
public sealed partial class ComposeStartupTests
{
    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task Starts_with_the_development_compose_environment(string name)
    {
        var env = new Dictionary<string, string>(ComposeFile.Load("docker-compose.yml").Services[name].Environment, StringComparer.Ordinal);
        // compose's provider (http://provider:5190/) is a real development provider here, with the same clients:
        // a service is ready only once it has read the provider's keys, and it gets its service tokens there.
        var provider = await DevProvider.Shared;
        Assert.Equal("http://provider:5190/", env["Auth__Authority"]);
        env["Auth__Authority"] = provider.Issuer.ToString();
        // The gateway is ready only with a replica of every service to route to; compose's host names do not
        // resolve here, so it starts (its configuration validated) and exits cleanly, and readiness is the
        // containers step's (scripts/test.d/containers.sh) and the gateway tests' to check.
        await StartAndStopAsync(name, env, checkDrain: name != "gateway");
    }

    internal static async Task StartAndStopAsync(string name, IDictionary<string, string> composeEnvironment, bool checkDrain = true)
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
        settings["Hosting__DrainDelay"] = $"00:00:0{DrainDelaySeconds}";
        // ServiceProcess trusts the tests' own signer by default (TestTokens.HostSettings): what the deployment does
        // not set is blanked, so the service trusts only what it is given.
        foreach (var key in TestTokens.HostSettings.Keys.Select(k => k.Replace(":", "__", StringComparison.Ordinal)))
        {
            if (!composeEnvironment.ContainsKey(key) && key != "Auth__Audience") settings[key] = string.Empty;
        }
        var project = Repository.Project(name);
        await using var process = await ServiceProcess.StartAsync(project.ProjectPath, settings, timeout: TimeSpan.FromSeconds(60));
        Assert.False(process.HasExited, process.Output);
        if (!checkDrain)
        {
            // Live means the options validated at start: the configuration is complete.
            Assert.Equal(0, await process.TerminateAsync(TimeSpan.FromSeconds(40)));
            return;
        }
        // Ready with the real Redis and RabbitMQ: what Kubernetes' readiness probe and compose's health check wait for.
        await process.WaitReadyAsync(TimeSpan.FromSeconds(60));

        // SIGTERM, as the kubelet and `docker compose stop` send it: readiness turns not-serving at once,
        // during the drain delay, while the process still answers; then it exits cleanly within the grace period.
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, await ReadinessDuringDrainAsync(process));
        var exit = await process.TerminateAsync(TimeSpan.FromSeconds(40));
        Assert.True(exit == 0, $"{name} exited with {exit} after SIGTERM:\n{process.Output}");
    }

    /// <summary>The first readiness answer after SIGTERM (the drain delay is set long enough to see it).</summary>
    private static async Task<System.Net.HttpStatusCode?> ReadinessDuringDrainAsync(ServiceProcess process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(DrainDelaySeconds);
        System.Net.HttpStatusCode? last = null;
        while (DateTime.UtcNow < until && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(process.HttpAddress, "/health/ready"));
                last = response.StatusCode;
                if (last != System.Net.HttpStatusCode.OK) return last;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(50);
        }
        return last;
    }

    /// <summary>Long enough to observe readiness during the drain on a busy machine.</summary>
    private const int DrainDelaySeconds = 3;

    /// <summary>What an operator puts in .env for the production override: real, freshly made keys.</summary>
    internal static Dictionary<string, string> ProductionVariables()
    {
        using var certificate = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["VIGIL_RABBITMQ_PASSWORD"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ["VIGIL_AUTH_AUTHORITY"] = "https://id.school.test/",
            ["VIGIL_IDENTITY_CLIENT_SECRET"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ["VIGIL_SESSION_CLIENT_SECRET"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ["VIGIL_CERTIFICATE_CLIENT_SECRET"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ["VIGIL_GATEWAY_CLIENT_SECRET"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
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
        // The platform's provider (https://id.school.test/) is not reachable here: production starts with its
        // configuration validated (Auth:Authority https, each client's secret), which is what this checks; reading
        // keys from a real provider is the development environment's test above.
        // The drain itself is checked with the development environment; here, that production starts.
        await ComposeStartupTests.StartAndStopAsync(name, resolved, checkDrain: false);
    }
}
