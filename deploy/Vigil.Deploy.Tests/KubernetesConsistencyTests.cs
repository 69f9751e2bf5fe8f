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
    [MemberData(nameof(Projects))]
    public async Task Starts_with_the_development_overlay_environment(string name)
    {
        var env = KubernetesRender.Render("development").Environment(name);
        var missing = env.Where(kv => kv.Value.Value is null).Select(kv => kv.Key).ToList();
        Assert.True(missing.Count == 0, $"development: {name} references Secrets the overlay does not make: {string.Join(", ", missing)}");
        await ComposeStartupTests.StartAndStopAsync(name, env.ToDictionary(kv => kv.Key, kv => kv.Value.Value!), checkDrain: false);
    }
}
