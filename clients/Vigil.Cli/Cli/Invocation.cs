using System.CommandLine;
using Vigil.Cli.Commands;

namespace Vigil.Cli.Cli;

/// <summary>One command's run against the gateway: its parsed line, its output, the journey's calls and the caller's token.</summary>
internal sealed class Invocation(ParseResult parse, GlobalOptions globals, Output output, GatewayConnection connection)
{
    private readonly Lazy<string?> _token = new(() => globals.CallerToken(parse));

    public ParseResult Parse => parse;

    public Output Output => output;

    public Journey Journey { get; } = new(connection, output);

    /// <summary>The gateway's address.</summary>
    public string Gateway => connection.Address;

    /// <summary>The development key, issuer and audience (the demo mints its own tokens).</summary>
    public DevTokens DevTokens => globals.DevTokensOf(parse);

    /// <summary>The caller's token, if any (some calls take none).</summary>
    public string? Token => _token.Value;

    /// <summary>The caller's token, or a usage error naming the ways to give one.</summary>
    public string RequireToken() =>
        Token ?? throw new UsageException("This command needs a token: --token TOKEN, VIGIL_TOKEN, or --as " + DevIdentity.Syntax + ".");

    /// <summary>An option's value (its default when absent).</summary>
    public T Get<T>(Option<T> option) => parse.GetValue(option)!;

    /// <summary>An argument's value.</summary>
    public T Get<T>(Argument<T> argument) => parse.GetValue(argument)!;
}
