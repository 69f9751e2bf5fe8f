using System.CommandLine;
using System.CommandLine.Parsing;

namespace Vigil.Cli.Cli;

/// <summary>
/// The options every command takes (before or after its name): the gateway, the caller's token (--token or
/// VIGIL_TOKEN; without them, the one <c>vigil login</c> stored) and --json.
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

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Machine-readable output: one JSON document per command (the demo: one object per step and line)",
        Recursive = true,
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
    }

    public IEnumerable<Option> All => [Gateway, Token, Json];

    /// <summary>The gateway's address: --gateway, VIGIL_GATEWAY, or the local one.</summary>
    public string GatewayOf(ParseResult parse) => parse.GetValue(Gateway) ?? Env("VIGIL_GATEWAY") ?? GatewayConnection.DefaultGateway;

    /// <summary>The token given on this command line: --token, then VIGIL_TOKEN; or none (the stored sign-in is asked next).</summary>
    public string? GivenToken(ParseResult parse) => parse.GetValue(Token) is { Length: > 0 } token ? token : Env("VIGIL_TOKEN");

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
