using System.CommandLine;
using Vigil.Cli.Commands;
using Vigil.Cli.SignIn;

namespace Vigil.Cli.Cli;

/// <summary>
/// One command's run against the gateway: its parsed line, its output, the journey's calls and the caller's token: the
/// one given on the command line, else the stored sign-in's (<c>vigil login</c>), renewed before it expires.
/// </summary>
internal sealed class Invocation
{
    private readonly ParseResult _parse;
    private readonly GatewayConnection _connection;
    private readonly StoredSignIn? _signIn;
    private string? _token;
    private string? _problem;

    private Invocation(ParseResult parse, Output output, GatewayConnection connection, StoredSignIn? signIn)
    {
        _parse = parse;
        _connection = connection;
        _signIn = signIn;
        Output = output;
        Journey = new Journey(connection, output);
    }

    /// <summary>The invocation with its caller's token resolved: given, or stored (and renewed if it is about to expire).</summary>
    public static async Task<Invocation> StartAsync(ParseResult parse, GlobalOptions globals, Output output, GatewayConnection connection, StoredSignIn signIn, CancellationToken cancellationToken)
    {
        var given = globals.GivenToken(parse);
        var call = new Invocation(parse, output, connection, given is null ? signIn : null) { _token = given };
        if (given is null) await call.ResolveStoredAsync(renew: false, cancellationToken);
        return call;
    }

    public ParseResult Parse => _parse;

    public Output Output { get; }

    public Journey Journey { get; }

    /// <summary>The gateway's address.</summary>
    public string Gateway => _connection.Address;

    /// <summary>The caller's token, if any (some calls take none).</summary>
    public string? Token => _token;

    /// <summary>The caller's token, or the reason there is none (a lapsed sign-in), or a usage error naming the ways to give one.</summary>
    public string RequireToken() =>
        _token ?? throw (_problem is not null
            ? new InvalidOperationException(_problem)
            : new UsageException("This command needs a token: `vigil login --provider URL` first, or --token TOKEN, or VIGIL_TOKEN."));

    /// <summary>
    /// The token to (re)open a stream with: the stored sign-in's, renewed when it is about to expire, or at once when
    /// <paramref name="renew"/> (the server refused the last one as expired); a token given on the command line as is.
    /// </summary>
    public async Task<string> FreshTokenAsync(bool renew, CancellationToken cancellationToken)
    {
        if (_signIn is not null) await ResolveStoredAsync(renew, cancellationToken);
        return RequireToken();
    }

    /// <summary>Whether the token comes from the stored sign-in (so it can be renewed).</summary>
    public bool Renewable => _signIn is not null;

    /// <summary>An option's value (its default when absent).</summary>
    public T Get<T>(Option<T> option) => _parse.GetValue(option)!;

    /// <summary>An argument's value.</summary>
    public T Get<T>(Argument<T> argument) => _parse.GetValue(argument)!;

    private async Task ResolveStoredAsync(bool renew, CancellationToken cancellationToken)
    {
        try
        {
            _token = await _signIn!.AccessTokenAsync(renew, cancellationToken);
            _problem = null;
        }
        catch (InvalidOperationException ex)
        {
            // Kept for RequireToken: a command that needs no token still runs.
            _token = null;
            _problem = ex.Message;
        }
    }
}
