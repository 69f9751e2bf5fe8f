using System.Text.Json;

namespace Vigil.Cli.SignIn;

/// <summary>
/// The user's token file: <c>$XDG_CONFIG_HOME/vigil/tokens.json</c>, else <c>~/.config/vigil/tokens.json</c>. Written
/// whole to a new file created readable by its owner only (0600 on Unix) and moved over the old one, so that another
/// user never reads it and a crash never leaves half a file. Its content is never printed.
/// </summary>
internal sealed class TokenFile(string path)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Path => path;

    /// <summary>The user's token file.</summary>
    public static TokenFile ForUser()
    {
        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg && System.IO.Path.IsPathRooted(xdg)
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return new TokenFile(System.IO.Path.Combine(config, "vigil", "tokens.json"));
    }

    /// <summary>The stored tokens, or null when nobody is signed in.</summary>
    public StoredTokens? Read()
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<StoredTokens>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"The token file {path} is not readable: run `vigil logout` and `vigil login` again.");
        }
    }

    /// <summary>Replaces the stored tokens.</summary>
    public void Write(StoredTokens tokens)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temporary = path + ".new";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, tokens, Json);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Holds the token file for one renewal: an exclusive lock on <c>tokens.json.lock</c> beside it (flock, released when
    /// disposed or when the process dies), waited for up to <paramref name="timeout"/>. Two vigil processes renewing at
    /// once would both spend the same refresh token; a provider that rotates refresh tokens refuses the second, and one
    /// that detects reuse revokes the whole sign-in. The lock file stays (deleting it would let a waiter lock a file
    /// nobody else sees); it holds nothing.
    /// </summary>
    public async Task<IDisposable> LockAsync(TimeProvider clock, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var until = clock.GetUtcNow() + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path + ".lock", options);
            }
            catch (IOException) when (clock.GetUtcNow() < until)
            {
                await Task.Delay(LockPoll, clock, cancellationToken);
            }
            catch (IOException ex)
            {
                throw new InvalidOperationException($"Another vigil has been renewing the sign-in in {path} for {timeout.TotalSeconds:0} s; try again.", ex);
            }
        }
    }

    /// <summary>How often a renewal waiting for another's lock tries again.</summary>
    public static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>Deletes the stored tokens; false when there were none.</summary>
    public bool Delete()
    {
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }
}
