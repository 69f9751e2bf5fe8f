using System.CommandLine;
using System.CommandLine.Parsing;
using Vigil.Contracts.Auth;

namespace Vigil.Cli.Cli;

/// <summary>
/// The options every command takes (before or after its name): the gateway, the caller's token (--token,
/// VIGIL_TOKEN, or --as role:subject[:courses] minted from the development key; without them, the one
/// <c>vigil login</c> stored) and --json.
/// </summary>
internal sealed class GlobalOptions
{
    public Option<string?> Gateway { get; } = new("--gateway")
    {
        Description = "The gateway's gRPC address, http:// (h2c) or https:// [default: VIGIL_GATEWAY, else " + GatewayConnection.DefaultGateway + "]",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "The caller's bearer token [default: VIGIL_TOKEN]",
        HelpName = "TOKEN",
        Recursive = true,
    };

    public Option<DevIdentity?> As { get; } = new("--as")
    {
        Description = "Call as someone, with a token minted from the development key (a Development deployment only): learner:ada, board:m1:course-1,course-2",
        HelpName = DevIdentity.Syntax,
        Recursive = true,
        CustomParser = result =>
        {
            var identity = DevIdentity.TryParse(result.Tokens[0].Value, out var error);
            if (error is not null) result.AddError(error);
            return identity;
        },
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Machine-readable output: one JSON document per command (the demo: one object per step and line)",
        Recursive = true,
    };

    public Option<string?> DevKey { get; } = new("--dev-key")
    {
        Description = "The development key, base64, at least 32 bytes [default: VIGIL_DEV_KEY, else the repository's local key]",
        HelpName = "BASE64",
        Recursive = true,
    };

    public Option<string> Issuer { get; } = new("--issuer")
    {
        Description = "The development tokens' issuer",
        HelpName = "ISSUER",
        Recursive = true,
        DefaultValueFactory = _ => DevTokens.DefaultIssuer,
    };

    public Option<string> Audience { get; } = new("--audience")
    {
        Description = "The development tokens' audience",
        HelpName = "AUDIENCE",
        Recursive = true,
        DefaultValueFactory = _ => DevTokens.DefaultAudience,
    };

    public GlobalOptions()
    {
        Gateway.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                result.AddError($"--gateway takes an http:// or https:// address, not '{value}'.");
            }
        });
        DevKey.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>() ?? string.Empty;
            var bytes = new byte[value.Length];
            if (!Convert.TryFromBase64String(value, bytes, out var length) || length < 32)
            {
                result.AddError("--dev-key takes a base64 key of at least 32 bytes.");
            }
        });
    }

    public IEnumerable<Option> All => [Gateway, Token, As, Json, DevKey, Issuer, Audience];

    /// <summary>The gateway's address: --gateway, VIGIL_GATEWAY, or the local one.</summary>
    public string GatewayOf(ParseResult parse) => parse.GetValue(Gateway) ?? Env("VIGIL_GATEWAY") ?? GatewayConnection.DefaultGateway;

    /// <summary>The development key (--dev-key, VIGIL_DEV_KEY, or the repository's), issuer and audience of this command line.</summary>
    public DevTokens DevTokensOf(ParseResult parse) =>
        new(parse.GetValue(DevKey) ?? Env("VIGIL_DEV_KEY") ?? DevelopmentTokens.LocalKey, parse.GetValue(Issuer)!, parse.GetValue(Audience)!);

    /// <summary>The token given on this command line: --token, then --as, then VIGIL_TOKEN; or none (the stored sign-in is asked next).</summary>
    public string? GivenToken(ParseResult parse) =>
        parse.GetValue(Token) is { Length: > 0 } token ? token
        : parse.GetValue(As) is { } who ? DevTokensOf(parse).Mint(who)
        : Env("VIGIL_TOKEN");

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
