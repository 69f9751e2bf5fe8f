using System.ComponentModel.DataAnnotations;

namespace Vigil.DevProvider;

/// <summary>The development provider's settings ("DevProvider").</summary>
internal sealed class DevProviderOptions
{
    public const string Section = "DevProvider";

    /// <summary>The issuer: the address Vigil's services read the discovery document from (e.g. http://127.0.0.1:5100/).</summary>
    [Required]
    public Uri? Issuer { get; set; }

    /// <summary>The audience (resource) put into every access token.</summary>
    [Required]
    public string Audience { get; set; } = "vigil";

    /// <summary>Access token lifetime.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Refresh token lifetime.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a device code (and its user code) waits for the user to sign the device in.</summary>
    public TimeSpan DeviceCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a signed-in user stays signed in at the provider (the login cookie).</summary>
    public TimeSpan LoginLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The client id of the gateway (the pages' sign-in, authorization code + PKCE).</summary>
    public string GatewayClientId { get; set; } = "vigil-gateway";

    /// <summary>
    /// The gateway's page addresses (scheme, host, port): each gives <see cref="GatewayClientId"/> the redirect URI
    /// <c>{url}/signin-oidc</c> and the post-logout URI <c>{url}/signout-callback-oidc</c>. A list of its own, so that
    /// a test or a compose file can give its gateway's address (DevProvider__GatewayUrls__0) without restating the client.
    /// </summary>
    public List<string> GatewayUrls { get; set; } = [];

    /// <summary>The demo users.</summary>
    public List<DevUser> Users { get; set; } = [];

    /// <summary>The registered clients.</summary>
    public List<DevClient> Clients { get; set; } = [];
}

/// <summary>A demo user, with Vigil's claims.</summary>
internal sealed class DevUser
{
    public string UserName { get; set; } = "";
    public string Password { get; set; } = "";
    public string? Name { get; set; }
    public List<string> Roles { get; set; } = [];
    public List<string> BoardCourses { get; set; } = [];
    public List<string> StaffCourses { get; set; } = [];

    /// <summary>The subject: the user name.</summary>
    public string Subject => UserName;
}

/// <summary>A client: a Vigil service (client credentials), the gateway (authorization code + PKCE), the CLI (device flow), the tests.</summary>
internal sealed class DevClient
{
    public string ClientId { get; set; } = "";

    /// <summary>The client secret; none for a public client (the CLI).</summary>
    public string? Secret { get; set; }

    /// <summary>A Vigil service: client credentials, its token has the service role.</summary>
    public bool Service { get; set; }

    /// <summary>May use the resource owner password grant (tests only).</summary>
    public bool Password { get; set; }

    /// <summary>May use the device authorization grant (the CLI).</summary>
    public bool DeviceFlow { get; set; }

    /// <summary>Redirect URIs of the authorization code flow (the gateway's sign-in callback).</summary>
    public List<string> RedirectUris { get; set; } = [];

    /// <summary>Where the provider may send the browser after sign-out.</summary>
    public List<string> PostLogoutRedirectUris { get; set; } = [];
}
