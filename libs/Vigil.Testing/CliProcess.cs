using System.Diagnostics;
using System.Threading.Channels;
using Xunit;

namespace Vigil.Testing;

/// <summary>
/// The proctoring client `vigil` (the build output of clients/Vigil.Cli, in the tests' configuration) as a process of its own, with its own environment
/// (no VIGIL_TOKEN of the test run; XDG_CONFIG_HOME an empty folder of its own unless given, so that no user's stored
/// sign-in is used): its output read line by line while it runs, its exit awaited.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();
    private readonly Task _reading;
    private readonly string _config = Directory.CreateTempSubdirectory("vigil-cli-config-").FullName;

    private CliProcess(string[] arguments, IEnumerable<(string Name, string Value)> environment)
    {
        Assert.True(File.Exists(Dll), $"The CLI is not built: {Dll}.");
        var psi = new ProcessStartInfo("dotnet", [Dll, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["VIGIL_TOKEN"] = "";
        psi.Environment["XDG_CONFIG_HOME"] = _config;
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        _process = Process.Start(psi)!;
        _reading = Task.WhenAll(Task.Run(async () =>
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (_stdout) _stdout.AppendLine(line);
                await _lines.Writer.WriteAsync(line);
            }
            _lines.Writer.Complete();
        }), Task.Run(async () =>
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr) _stderr.AppendLine(line);
            }
        }));
    }

    /// <summary>vigil.dll: the CLI project's build output (a test project builds it by a project reference).</summary>
    public static string Dll => Path.Combine(ServiceProcess.RepositoryRoot, "clients", "Vigil.Cli", "bin", ServiceProcess.BuildConfiguration, "net10.0", "vigil.dll");

    /// <summary>Starts `vigil` with these arguments and environment.</summary>
    public static CliProcess Start(string[] arguments, params (string Name, string Value)[] environment) => new(arguments, environment);

    /// <summary>Runs `vigil` to its end (4 minutes at most): its exit code and output.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] arguments, params (string Name, string Value)[] environment)
    {
        using var process = Start(arguments, environment);
        return await process.ExitAsync();
    }

    /// <summary>The first line printed (from now on) that <paramref name="match"/> accepts; fails when the process ends first.</summary>
    public async Task<string> LineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (match(line)) return line;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // reported below
        }
        Assert.Fail($"vigil did not print the line awaited:\n{Stdout}\n{Stderr}");
        return "";
    }

    /// <summary>Waits for the exit (4 minutes at most): the exit code and everything printed.</summary>
    public async Task<(int Code, string Stdout, string Stderr)> ExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(240));
        await _process.WaitForExitAsync(cts.Token);
        await _reading;
        return (_process.ExitCode, Stdout, Stderr);
    }

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        Directory.Delete(_config, recursive: true);
    }
}
