using System.Collections.Immutable;
using System.Security.Claims;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Vigil.DevProvider.Accounts;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Vigil.DevProvider.Endpoints;

/// <summary>
/// Tokens for any test user, in one call: the grant <c>urn:vigil:dev:test-user</c> with <c>subject</c> and any of
/// <c>role</c>, <c>board_course</c>, <c>staff_course</c>, <c>name</c> (repeatable); <c>lifetime_seconds</c> and <c>token_audience</c>
/// make the odd tokens a refusal test needs (short-lived, meant for someone else). It exists only in the Testing
/// environment (the grant is allowed, the client permitted and this code reached only there), so a run can have as
/// many distinct learners as it needs without seeding them; ordinary users sign in with their password.
/// </summary>
internal static class TestUsers
{
    /// <summary>Marks a principal made by the test-user grant, so its refresh token can be renewed.</summary>
    public const string Marker = "vigil_test_user";

    public static IResult Issue(OpenIddictRequest request, DevUsers users)
    {
        var subject = (string?)request["subject"];
        if (string.IsNullOrWhiteSpace(subject))
        {
            return TokenEndpoints.Refuse(Errors.InvalidRequest, "The test-user grant needs a subject.");
        }
        var user = new DevUser
        {
            UserName = subject,
            Name = (string?)request["name"],
            Roles = [.. Values(request, "role")],
            BoardCourses = [.. Values(request, "board_course")],
            StaffCourses = [.. Values(request, "staff_course")],
        };
        var principal = users.Principal(user, request.GetScopes());
        if ((string?)request["token_audience"] is { Length: > 0 } audience) principal.SetResources(audience);
        if (int.TryParse((string?)request["lifetime_seconds"], out var seconds) && seconds > 0) principal.SetAccessTokenLifetime(TimeSpan.FromSeconds(seconds));
        return Results.SignIn(Mark(principal), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    public static ClaimsPrincipal Renew(ClaimsPrincipal previous, DevUsers users)
    {
        var user = new DevUser
        {
            UserName = previous.GetClaim(Claims.Subject)!,
            Name = previous.GetClaim(Claims.Name),
            Roles = [.. previous.GetClaims(Claims.Role)],
            BoardCourses = [.. previous.GetClaims(DevUsers.BoardCourse)],
            StaffCourses = [.. previous.GetClaims(DevUsers.StaffCourse)],
        };
        return Mark(users.Principal(user, previous.GetScopes()));
    }

    private static ClaimsPrincipal Mark(ClaimsPrincipal principal)
    {
        principal.SetClaim(Marker, "true");
        principal.SetDestinations(claim => claim.Type switch
        {
            Marker => [],
            Claims.Subject or Claims.Name or Claims.PreferredUsername => [Destinations.AccessToken, Destinations.IdentityToken],
            _ => [Destinations.AccessToken],
        });
        return principal;
    }

    private static IEnumerable<string> Values(OpenIddictRequest request, string name) =>
        request.GetParameter(name) is { } p && (ImmutableArray<string?>?)p is { } values ? values.Where(v => !string.IsNullOrEmpty(v)).Select(v => v!) : [];
}
