using System.Security.Claims;
using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.IdentityModel.Tokens;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// Each way a token is refused reads Unauthenticated with its reason (google.rpc.ErrorInfo) and words; claims of
/// other providers map to Vigil's roles by configuration. Keys here are static (the test signer's public key, as an
/// air-gapped site configures); the provider's metadata path is tested against the real dev provider.
/// </summary>
public sealed class TokenValidationTests
{
    public static TheoryData<string, string, string> Refused => new()
    {
        { "expired", "TOKEN_EXPIRED", "The token expired at" },
        { "not yet valid", "TOKEN_NOT_YET_VALID", "check this device's clock" },
        { "wrong issuer", "TOKEN_WRONG_ISSUER", "issued by 'https://elsewhere.example.org/'" },
        { "wrong audience", "TOKEN_WRONG_AUDIENCE", "meant for 'someone-else'" },
        { "unsigned", "TOKEN_UNSIGNED", "The token is not signed" },
        { "unknown kid", "TOKEN_UNKNOWN_KEY", "(kid 'a-key-nobody-published')" },
        { "forged under the trusted kid", "TOKEN_SIGNATURE_INVALID", "does not verify" },
        { "HMAC", "TOKEN_ALGORITHM_REFUSED", "HS256" },
        { "no token", "TOKEN_MISSING", AuthorizationDefaults.TokenRequired },
        { "not a JWT", "TOKEN_MALFORMED", "not a JSON Web Token" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_refused_token_is_Unauthenticated_with_its_reason(string kind, string reason, string words)
    {
        await using var app = await TestHost.StartAsync(settings: new() { ["Auth:ClockSkew"] = "00:00:00" });
        var client = new ProbeService.ProbeServiceClient(app.Channel(Token(kind)));
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () => await client.WhoamiAsync(new WhoamiRequest()));
        Assert.Equal(reason, RpcAssert.ErrorReason(ex));
        Assert.Contains(words, ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_test_signers_token_is_accepted()
    {
        await using var app = await TestHost.StartAsync();
        var ok = await new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1"))).WhoamiAsync(new WhoamiRequest());
        Assert.Equal("learner-1", ok.Subject);
        Assert.True(ok.Learner);
    }

    [Fact]
    public async Task Keycloak_style_roles_map_to_Vigil_roles_and_the_providers_own_role_claim_can_be_ignored()
    {
        await using var app = await TestHost.StartAsync(settings: new()
        {
            ["Auth:Claims:UseVigilClaims"] = "false",
            ["Auth:Claims:Rules:0:From"] = "realm_access.roles",
            ["Auth:Claims:Rules:0:Match"] = "vigil-learner",
            ["Auth:Claims:Rules:0:To"] = "role",
            ["Auth:Claims:Rules:0:Value"] = "learner",
        });
        var keycloak = TestTokens.Mint(new TokenSpec("kc-1") { Extra = new Dictionary<string, object> { ["realm_access"] = new Dictionary<string, object> { ["roles"] = new[] { "offline_access", "vigil-learner" } } } });
        Assert.True((await new ProbeService.ProbeServiceClient(app.Channel(keycloak)).WhoamiAsync(new WhoamiRequest())).Learner);
        // A "role" claim of the provider's own no longer counts.
        var plain = TestTokens.Learner("kc-2");
        Assert.False((await new ProbeService.ProbeServiceClient(app.Channel(plain)).WhoamiAsync(new WhoamiRequest())).Learner);
    }

    [Fact]
    public void Group_paths_give_board_and_staff_courses_and_nothing_else()
    {
        var identity = new ClaimsIdentity([
            new Claim("sub", "u1"),
            new Claim("groups", "/courses/course-v1:Org+CS101+2026/board"),
            new Claim("groups", "/courses/course-v1:Org+CS102+2026/staff"),
            new Claim("groups", "/courses/course-v1:Org+CS103+2026/learners"),
            new Claim("groups", "/staff-lounge"),
            new Claim("resource_access", """{"vigil":{"roles":["ops"]},"other":{"roles":["learner"]}}""", "JSON"),
        ]);
        ClaimMapper.Apply(identity, new ClaimMappingOptions
        {
            Rules =
            [
                new ClaimRule { From = "groups", Match = "/courses/(?<course>[^/]+)/board", To = VigilClaims.BoardCourse, Value = "${course}" },
                new ClaimRule { From = "groups", Match = "/courses/(?<course>[^/]+)/staff", To = VigilClaims.StaffCourse, Value = "${course}" },
                new ClaimRule { From = "groups", Match = "/courses/[^/]+/learners", To = VigilClaims.Role, Value = VigilRoles.Learner },
                new ClaimRule { From = "resource_access.vigil.roles", Match = "ops", To = VigilClaims.Role, Value = VigilRoles.Ops },
            ],
        });
        Assert.Equal(["course-v1:Org+CS101+2026"], identity.FindAll(VigilClaims.BoardCourse).Select(c => c.Value));
        Assert.Equal(["course-v1:Org+CS102+2026"], identity.FindAll(VigilClaims.StaffCourse).Select(c => c.Value));
        Assert.Equal(["learner", "ops"], identity.FindAll(VigilClaims.Role).Select(c => c.Value).Order());
    }

    private static string? Token(string kind)
    {
        var spec = new TokenSpec("learner-1") { Roles = [VigilRoles.Learner] };
        var now = DateTimeOffset.UtcNow;
        return kind switch
        {
            "expired" => TestTokens.Mint(spec with { Now = now.AddHours(-2), Lifetime = TimeSpan.FromMinutes(5) }),
            "not yet valid" => TestTokens.Mint(spec with { NotBefore = now.AddMinutes(10), Lifetime = TimeSpan.FromHours(1) }),
            "wrong issuer" => TestTokens.Mint(spec with { Issuer = "https://elsewhere.example.org/" }),
            "wrong audience" => TestTokens.Mint(spec with { Audience = "someone-else" }),
            "unsigned" => TestTokens.Mint(spec with { Unsigned = true }),
            "unknown kid" => TestTokens.Mint(spec with { Key = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "a-key-nobody-published" } }),
            "forged under the trusted kid" => TestTokens.Mint(spec with { Key = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = TestTokens.KeyId } }),
            "HMAC" => TestTokens.Mint(spec with { Hmac = new byte[32] }),
            "no token" => null,
            "not a JWT" => "not-a-jwt",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}
