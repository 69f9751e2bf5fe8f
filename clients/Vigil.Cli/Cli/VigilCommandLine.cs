using System.CommandLine;
using Grpc.Core;
using Vigil.Cli.Commands;

namespace Vigil.Cli.Cli;

/// <summary>
/// The command line (System.CommandLine): the commands and their typed options, help (<c>--help</c> on any
/// command), parse errors that name the option, completion (the <c>[suggest]</c> directive), and the exit codes:
/// 0 done, 1 refused or failed (the gRPC status and its violations are shown), 2 a mistake in the command
/// line, 130 interrupted.
/// </summary>
internal sealed class VigilCommandLine
{
    private readonly TextWriter _out;
    private readonly TextWriter _err;

    public VigilCommandLine(TextWriter? stdout = null, TextWriter? stderr = null)
    {
        _out = stdout ?? Console.Out;
        _err = stderr ?? Console.Error;
        Root = new RootCommand("vigil: the Vigil proctoring client; it talks to the gateway over gRPC.");
        foreach (var option in Globals.All) Root.Options.Add(option);
        foreach (var command in new[]
        {
            SignInCommands.Login(this),
            SignInCommands.Logout(this),
            IdentityCommands.Email(this),
            IdentityCommands.Register(this),
            IdentityCommands.Verify(this),
            IdentityCommands.Images(this),
            ExamCommands.Exam(this),
            ExamCommands.Session(this),
            BoardCommands.Create(this),
            ResultCommands.Dashboard(this),
            ResultCommands.Certificate(this),
            ResultCommands.Results(this),
            AuditCommands.Create(this),
            Demo.Command(this),
        })
        {
            Root.Subcommands.Add(command);
        }
    }

    public RootCommand Root { get; }

    public GlobalOptions Globals { get; } = new();

    public ParseResult Parse(params string[] args) => Root.Parse(args);

    /// <summary>The output of a command: lines for a person, or JSON with --json.</summary>
    public Output OutputFor(ParseResult parse) => new(parse.GetValue(Globals.Json), _out);

    /// <summary>Gives a command an action that works offline (no gateway).</summary>
    public void Offline(Command command, Func<ParseResult, Output, int> action) =>
        command.SetAction(parse => action(parse, OutputFor(parse)));

    /// <summary>Gives a command an action that calls the gateway.</summary>
    public void OnGateway(Command command, Func<Invocation, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var connection = new GatewayConnection(Globals.GatewayOf(parse));
            var call = await Invocation.StartAsync(parse, Globals, OutputFor(parse), connection, SignIn.StoredSignIn.ForUser(), cancellationToken);
            return await action(call, cancellationToken);
        });

    /// <summary>Parses and runs a command line.</summary>
    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var config = new InvocationConfiguration
        {
            Output = _out,
            Error = _err,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Program cancels on Ctrl-C itself
        };
        if (args.Length == 0)
        {
            await Parse("--help").InvokeAsync(config, cancellationToken);
            return 2;
        }
        var parse = Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await _err.WriteLineAsync("vigil: " + error.Message);
            await _err.WriteLineAsync($"Run `{CommandPath(parse)} --help` for its usage.");
            return 2;
        }
        try
        {
            return await parse.InvokeAsync(config, cancellationToken);
        }
        catch (UsageException ex)
        {
            await _err.WriteLineAsync("vigil: " + ex.Message);
            await _err.WriteLineAsync($"Run `{CommandPath(parse)} --help` for its usage.");
            return 2;
        }
        catch (RpcException ex)
        {
            var output = OutputFor(parse);
            if (output.Json) output.Emit(Errors.ToJson(ex));
            else foreach (var line in Errors.Describe(ex)) await _err.WriteLineAsync("  ✘ " + line);
            return 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or UnauthorizedAccessException or FormatException
                                       or Google.Protobuf.InvalidProtocolBufferException or System.Text.Json.JsonException)
        {
            await _err.WriteLineAsync("vigil: " + ex.Message);
            return 1;
        }
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command is RootCommand ? "vigil" : result.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }
}
