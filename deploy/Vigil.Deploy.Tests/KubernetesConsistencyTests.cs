namespace Vigil.Deploy.Tests;

/// <summary>
/// The Kubernetes overlays against the services' real configuration, like the compose file: every
/// variable a Deployment sets is read by its service, every loopback default is replaced, and each service
/// starts with the development overlay's environment (its ConfigMaps and development Secrets).
/// </summary>
public sealed class KubernetesConsistencyTests
{
    public static IEnumerable<object[]> OverlaysAndProjects =>
        from o in KubernetesRender.Overlays
        from p in Repository.ProjectData
        select new[] { o[0], p[0] };

    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    [Theory]
    [MemberData(nameof(OverlaysAndProjects))]
    public void Every_variable_is_read_and_every_loopback_default_replaced(string overlay, string name)
    {
        var env = KubernetesRender.Render(overlay).Environment(name);
        var schema = ConfigurationSchema.For(Repository.Project(name));
        var unread = env.Keys.Where(k => !schema.Reads(k)).ToList();
        Assert.True(unread.Count == 0, $"{overlay}: Deployment {name} sets variables it never reads: {string.Join(", ", unread)} (its sections: {string.Join(", ", schema.Sections)})");
        var missing = schema.LoopbackDefaults.Select(k => k.Replace(":", "__", StringComparison.Ordinal))
            .Where(k => !env.TryGetValue(k, out var v) || (!v.FromSecret && ConfigurationSchema.IsLoopback(v.Value)))
            .ToList();
        Assert.True(missing.Count == 0, $"{overlay}: Deployment {name} would reach itself in its pod: set {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(OverlaysAndProjects))]
    public void Trusts_the_provider_of_vigil_config_with_a_client_of_its_own(string overlay, string name)
    {
        var env = KubernetesRender.Render(overlay).Environment(name);
        Assert.True(env.TryGetValue("Auth__Authority", out var authority) && !authority.FromSecret
            && Uri.TryCreate(authority.Value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https",
            $"{overlay}: {name} needs Auth__Authority, the provider's issuer URL (vigil-config)");
        if (overlay == "production") Assert.StartsWith("https://", authority!.Value, StringComparison.Ordinal);
        // No static trust beside it (air-gapped sites patch it in: docs/operations.md, "Secrets").
        foreach (var key in new[] { "Auth__SigningKeys__0", "Auth__ServiceToken", "Auth__Issuer", "Auth__DevelopmentKey" })
        {
            Assert.False(env.ContainsKey(key), $"{overlay}: {name} sets {key} beside Auth__Authority");
        }
        var (idKey, secretKey) = name == "gateway" ? ("Gateway__SignIn__ClientId", "Gateway__SignIn__ClientSecret") : ("Auth__ClientId", "Auth__ClientSecret");
        Assert.Equal("vigil-" + name, env[idKey].Value);
        Assert.True(env[secretKey].FromSecret, $"{overlay}: {name}'s {secretKey} must come from a Secret");
        if (overlay == "development")
        {
            // The development overlay's secrets are the development provider's own clients: they must match.
            var registered = Repository.ReadJson("dev/Vigil.DevProvider/appsettings.json").GetProperty("DevProvider").GetProperty("Clients")
                .EnumerateArray().Single(c => c.GetProperty("ClientId").GetString() == env[idKey].Value);
            Assert.Equal(registered.GetProperty("Secret").GetString(), env[secretKey].Value);
        }
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task Starts_with_the_development_overlay_environment(string name)
    {
        var env = KubernetesRender.Render("development").Environment(name);
        var missing = env.Where(kv => kv.Value.Value is null).Select(kv => kv.Key).ToList();
        Assert.True(missing.Count == 0, $"development: {name} references Secrets the overlay does not make: {string.Join(", ", missing)}");
        await ComposeStartupTests.StartAndStopAsync(name, env.ToDictionary(kv => kv.Key, kv => kv.Value.Value!), checkDrain: false);
    }
}
