using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Vigil.Testing;

namespace Vigil.Deploy.Tests;

/// <summary>
/// The development OpenID Connect provider in docker-compose.yml, and the trust wiring around it: one issuer
/// (http://provider:5190/) that every service and the gateway take as Auth:Authority; an image built like the
/// services' (two stages, non-root, read-only, a health probe on its port); the clients compose gives the
/// services and the gateway really registered at the provider (a real provider process started with compose's
/// environment); and the production override keeping the provider off while trusting the platform's provider.
/// </summary>
public sealed class ProviderComposeTests
{
    /// <summary>The provider as a deployable project (not a Vigil service: no Kubernetes manifest, no gRPC port).</summary>
    internal static readonly DeployedProject Provider = new("provider", "dev/Vigil.DevProvider", "Vigil.DevProvider", "dev/Vigil.DevProvider/Dockerfile");

    private const string Issuer = "http://provider:5190/";
    private const int Port = 5190;

    private static ComposeFile Development => ComposeFile.Load("docker-compose.yml");

    private static ComposeFile Production => ComposeFile.Load("docker-compose.yml", "deploy/compose/production.yml");

    public static IEnumerable<object[]> Projects => Repository.ProjectData;

    [Fact]
    public void The_provider_is_a_compose_service_built_from_its_dockerfile()
    {
        var service = Development.Services["provider"];
        Assert.Equal(Provider.DockerfilePath, service.Dockerfile);
        Assert.True(service.ReadOnly, "provider: read_only: true, like the services");
        Assert.Equal($"http://127.0.0.1:{Port}/health/ready", service.HealthCheck.Single(t => t.StartsWith("http", StringComparison.Ordinal)));
        Assert.Equal(["dotnet", "/probe/Vigil.HealthProbe.dll"], service.HealthCheck.Where(t => !t.StartsWith("http", StringComparison.Ordinal)).Skip(1));
        // Published on the same port as inside the network: http://provider:5190/ names one address for the host
        // (with its /etc/hosts line) and for the containers.
        Assert.Equal([$"{Port}:{Port}"], service.Ports);
        Assert.Equal("Development", service.Environment["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal(Issuer, service.Environment["DevProvider__Issuer"]);
        Assert.Empty(service.Profiles);
    }

    [Fact]
    public void The_provider_image_follows_the_rules_of_the_services_images()
    {
        var stages = DockerfileTests.Stages(Provider.DockerfilePath);
        Assert.True(stages.Count >= 2, $"{Provider.DockerfilePath}: a build stage and a runtime stage");
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0\S* AS build$", stages[0][0].Arguments);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime", stages[^1][0].Arguments);
        Assert.Contains(stages[0], i => i.Name == "RUN" && i.Arguments.StartsWith(
            $"dotnet publish {Provider.ProjectPath}/{Provider.AssemblyName}.csproj -c Release -r linux-x64 --self-contained false", StringComparison.Ordinal));
        var runtime = stages[^1];
        Assert.All(runtime.Where(i => i.Name is "COPY" or "ADD"), i => Assert.Contains("--from=build", i.Arguments, StringComparison.Ordinal));
        var user = runtime.Last(i => i.Name == "USER").Arguments.Split(':')[0];
        Assert.True(int.TryParse(user, out var uid) && uid > 0, $"{Provider.DockerfilePath}: USER must be a numeric uid other than 0");
        var env = runtime.Where(i => i.Name == "ENV").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        // The port the issuer names, and Production by default: the image refuses to run unless told Development.
        Assert.Contains($"ASPNETCORE_HTTP_PORTS={Port}", env);
        Assert.Contains("ASPNETCORE_ENVIRONMENT=Production", env);
        Assert.Contains("HOME=/tmp", env);
        Assert.Equal([Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], runtime.Where(i => i.Name == "EXPOSE").Select(i => i.Arguments));
        Assert.Contains(runtime, i => i.Name == "HEALTHCHECK" && i.Arguments.Contains(
            $@"CMD [""dotnet"", ""/probe/Vigil.HealthProbe.dll"", ""http://127.0.0.1:{Port}/health/ready""]", StringComparison.Ordinal));
        Assert.Contains(runtime, i => i.Name == "COPY" && i.Arguments == "--from=build /out/probe /probe/");
        Assert.Contains(runtime, i => i.Name == "ENTRYPOINT" && i.Arguments == $@"[""dotnet"", ""{Provider.AssemblyName}.dll""]");
    }

    [Fact]
    public void Every_key_compose_gives_the_provider_is_read_by_it()
    {
        var schema = ConfigurationSchema.For(Provider);
        Assert.False(schema.Reads("DevProvider__Isuer")); // the schema is not one that accepts everything
        foreach (var compose in new[] { ("docker-compose.yml", Development), ("with deploy/compose/production.yml", Production) })
        {
            var unread = compose.Item2.Services["provider"].Environment.Keys.Where(k => !schema.Reads(k)).ToList();
            Assert.True(unread.Count == 0, $"{compose.Item1}: the provider is given keys it never reads: {string.Join(", ", unread)}");
        }
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Every_service_trusts_the_provider_through_one_issuer(string name)
    {
        var env = Development.Services[name].Environment;
        Assert.Equal(Issuer, env["Auth__Authority"]);
        Assert.Equal(Development.Services["provider"].Environment["DevProvider__Issuer"], env["Auth__Authority"]);
        // No static trust left beside it: an issuer of its own, a shared key or a static service token.
        Assert.Equal(string.Empty, env["Auth__Issuer"]);
        Assert.True(string.IsNullOrEmpty(env.GetValueOrDefault("Auth__DevelopmentKey")), $"{name}: a development key");
        Assert.False(env.ContainsKey("Auth__SigningKeys__0"), $"{name}: static signing keys beside Auth__Authority");
        Assert.False(env.ContainsKey("Auth__ServiceToken"), $"{name}: a static service token beside client credentials");
        var (idKey, secretKey) = ClientKeys(name);
        Assert.False(string.IsNullOrEmpty(env.GetValueOrDefault(idKey)), $"{name}: {idKey} is not set");
        Assert.False(string.IsNullOrEmpty(env.GetValueOrDefault(secretKey)), $"{name}: {secretKey} is not set");
        // Nothing waits on the provider (the production override turns it off): readiness waits for its keys instead.
        Assert.DoesNotContain("provider", Development.Services[name].DependsOn);
    }

    [Fact]
    public async Task The_clients_compose_gives_are_registered_at_the_provider_it_runs()
    {
        // The provider process with docker-compose.yml's environment for it, but on a loopback issuer.
        var settings = Development.Services["provider"].Environment
            .Where(kv => kv.Key != "DevProvider__Issuer")
            .ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        settings["DOTNET_ENVIRONMENT"] = settings["ASPNETCORE_ENVIRONMENT"];
        await using var provider = await DevProvider.StartAsync(settings);

        // Each service's client credentials give a token of this issuer for Vigil's audience.
        foreach (var name in Repository.Projects.Select(p => p.Name).Where(n => n != "gateway"))
        {
            var env = Development.Services[name].Environment;
            var token = await provider.ClientCredentialsAsync(env["Auth__ClientId"], env["Auth__ClientSecret"]);
            var claims = Payload(token);
            Assert.Equal(provider.Issuer.ToString(), claims.GetProperty("iss").GetString());
            Assert.Contains("vigil", Audiences(claims));
        }
        // ...and a wrong secret is refused (the check above can fail).
        var session = Development.Services["session"].Environment;
        await Assert.ThrowsAsync<InvalidOperationException>(() => provider.ClientCredentialsAsync(session["Auth__ClientId"], session["Auth__ClientSecret"] + "-wrong"));

        // The gateway's sign-in client, with the callback of the page address compose publishes: the provider
        // sends the browser to its login page; with a callback it does not know, it refuses.
        var gateway = Development.Services["gateway"].Environment;
        var pages = Development.Services["provider"].Environment["DevProvider__GatewayUrls__0"];
        Assert.Contains(Development.Services["gateway"].Ports, p => pages.EndsWith(":" + p.Split(':')[0], StringComparison.Ordinal));
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = provider.Issuer };
        using (var ok = await http.GetAsync(AuthorizeUri(gateway["Gateway__SignIn__ClientId"], pages + "/signin-oidc")))
        {
            Assert.True(ok.StatusCode == HttpStatusCode.Redirect, $"authorize for {pages}/signin-oidc: {(int)ok.StatusCode} {await ok.Content.ReadAsStringAsync()}");
            Assert.Contains("/account/login", ok.Headers.Location!.ToString(), StringComparison.Ordinal);
        }
        using var refused = await http.GetAsync(AuthorizeUri(gateway["Gateway__SignIn__ClientId"], "http://elsewhere.test:5180/signin-oidc"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        // The gateway's client secret is the one the provider knows: the token endpoint authenticates the client
        // before it looks at the grant (a made-up code is refused as invalid_grant, a wrong secret as invalid_client).
        Assert.Equal("invalid_grant", await CodeErrorAsync(http, gateway["Gateway__SignIn__ClientId"], gateway["Gateway__SignIn__ClientSecret"], pages));
        Assert.Equal("invalid_client", await CodeErrorAsync(http, gateway["Gateway__SignIn__ClientId"], gateway["Gateway__SignIn__ClientSecret"] + "-wrong", pages));
    }

    [Fact]
    public void Production_keeps_the_development_provider_off()
    {
        var provider = Production.Services["provider"];
        // docker compose: a profile nobody enables; podman-compose 1.0.3 ignores profiles but makes no container
        // for zero replicas; and started anyway, Production makes it refuse (the next test).
        Assert.NotEmpty(provider.Profiles);
        Assert.Equal(0, provider.Replicas);
        Assert.Equal("Production", provider.Environment["ASPNETCORE_ENVIRONMENT"]);
        Assert.All(Production.Services.Values, s => Assert.DoesNotContain("provider", s.DependsOn));
        foreach (var name in Repository.Projects.Select(p => p.Name))
        {
            var authority = Production.Services[name].Environment["Auth__Authority"];
            Assert.DoesNotContain("http://provider", authority, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_provider_refuses_to_start_with_the_production_override()
    {
        var settings = Production.Services["provider"].Environment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        settings["DOTNET_ENVIRONMENT"] = "Production";
        var started = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var provider = await DevProvider.StartAsync(settings);
        });
        Assert.Contains("runs only in the Development and Testing environments", started.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void Production_trusts_the_platform_provider_with_a_client_of_its_own(string name)
    {
        var env = Production.Services[name].Environment;
        Assert.StartsWith("${VIGIL_AUTH_AUTHORITY:?", env["Auth__Authority"], StringComparison.Ordinal);
        var (idKey, secretKey) = ClientKeys(name);
        Assert.Matches(@"^\$\{VIGIL_[A-Z]+_CLIENT_ID:-vigil-[a-z]+\}$", env[idKey]);
        Assert.Matches(@"^\$\{VIGIL_[A-Z]+_CLIENT_SECRET:\?[^}]+\}$", env[secretKey]);
        var text = Repository.Read("deploy/compose/production.yml");
        Assert.DoesNotContain("Auth__SigningKeys", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Auth__ServiceToken", text, StringComparison.Ordinal);
    }

    /// <summary>The client id and secret keys: the services' client credentials, the gateway's sign-in client.</summary>
    private static (string Id, string Secret) ClientKeys(string name) => name == "gateway"
        ? ("Gateway__SignIn__ClientId", "Gateway__SignIn__ClientSecret")
        : ("Auth__ClientId", "Auth__ClientSecret");

    private static string AuthorizeUri(string clientId, string redirectUri)
    {
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes("a-verifier-of-forty-three-characters-or-more-0123456789")));
        return "connect/authorize?response_type=code&scope=openid%20vigil&state=s&nonce=n&code_challenge_method=S256"
            + $"&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirectUri)}&code_challenge={challenge}";
    }

    private static async Task<string?> CodeErrorAsync(HttpClient http, string clientId, string secret, string pages)
    {
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = "not-a-code",
            ["redirect_uri"] = pages + "/signin-oidc",
            ["code_verifier"] = "a-verifier-of-forty-three-characters-or-more-0123456789",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
    }

    private static JsonElement Payload(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        using var doc = JsonDocument.Parse(Convert.FromBase64String(part));
        return doc.RootElement.Clone();
    }

    private static List<string?> Audiences(JsonElement claims) => claims.GetProperty("aud") switch
    {
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.GetString()).ToList(),
        var s => [s.GetString()],
    };

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
