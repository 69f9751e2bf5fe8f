using System.Collections.Immutable;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Vigil.DevProvider.Accounts;

/// <summary>The demo users (from configuration) and the claims a token of theirs carries: Vigil's own names (role, board_course, staff_course).</summary>
internal sealed class DevUsers(IOptions<DevProviderOptions> options)
{
    public const string BoardCourse = "board_course";
    public const string StaffCourse = "staff_course";

    /// <summary>The user with this name and password, or null (compared in constant time).</summary>
    public DevUser? Verify(string? userName, string? password)
    {
        var user = Find(userName);
        if (user is null || password is null) return null;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(user.Password), Encoding.UTF8.GetBytes(password)) ? user : null;
    }

    /// <summary>The user with this name (the subject), or null.</summary>
    public DevUser? Find(string? userName) =>
        userName is null ? null : options.Value.Users.Find(u => string.Equals(u.UserName, userName, StringComparison.Ordinal));

    /// <summary>The identity a token for <paramref name="user"/> is made from.</summary>
    public ClaimsPrincipal Principal(DevUser user, IEnumerable<string> scopes)
    {
        var identity = NewIdentity();
        identity.SetClaim(Claims.Subject, user.Subject);
        identity.SetClaim(Claims.Name, user.Name ?? user.UserName);
        identity.SetClaim(Claims.PreferredUsername, user.UserName);
        identity.SetClaims(Claims.Role, [.. user.Roles]);
        identity.SetClaims(BoardCourse, [.. user.BoardCourses]);
        identity.SetClaims(StaffCourse, [.. user.StaffCourses]);
        return Finish(identity, scopes);
    }

    /// <summary>The identity of a client acting for itself (client credentials): a Vigil service.</summary>
    public ClaimsPrincipal Service(string clientId)
    {
        var identity = NewIdentity();
        identity.SetClaim(Claims.Subject, clientId);
        identity.SetClaim(Claims.Name, clientId);
        identity.SetClaims(Claims.Role, ["service"]);
        return Finish(identity, []);
    }

    private static ClaimsIdentity NewIdentity() =>
        new(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);

    private ClaimsPrincipal Finish(ClaimsIdentity identity, IEnumerable<string> scopes)
    {
        identity.SetScopes(scopes.ToImmutableArray());
        identity.SetResources(options.Value.Audience);
        identity.SetDestinations(claim => claim.Type switch
        {
            Claims.Subject or Claims.Name or Claims.PreferredUsername => [Destinations.AccessToken, Destinations.IdentityToken],
            _ => [Destinations.AccessToken],
        });
        return new ClaimsPrincipal(identity);
    }
}
