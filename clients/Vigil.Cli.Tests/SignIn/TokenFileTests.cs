using Microsoft.Extensions.Time.Testing;
using Vigil.Cli.SignIn;

namespace Vigil.Cli.Tests.SignIn;

/// <summary>The user's token file: readable by its owner only, written whole, deleted by logout.</summary>
public sealed class TokenFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vigil-tokens-").FullName;

    [Fact]
    public void Tokens_are_kept_in_a_file_only_its_owner_can_read_and_come_back_as_written()
    {
        var file = new TokenFile(Path.Combine(_folder, "vigil", "tokens.json"));
        Assert.Null(file.Read());
        var tokens = new StoredTokens(new Uri("https://id.example.org/"), "vigil-cli", "access-1", new DateTimeOffset(2026, 12, 2, 8, 15, 0, TimeSpan.Zero), "refresh-1");

        file.Write(tokens);
        Assert.Equal(tokens, file.Read());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file.Path)!));
        }

        var renewed = tokens with { AccessToken = "access-2", RefreshToken = "refresh-2" };
        file.Write(renewed);
        Assert.Equal(renewed, file.Read());
        Assert.Equal([file.Path], Directory.GetFiles(Path.GetDirectoryName(file.Path)!));

        Assert.True(file.Delete());
        Assert.False(File.Exists(file.Path));
        Assert.False(file.Delete());
    }

    [Fact]
    public void A_damaged_file_says_how_to_start_again()
    {
        var file = new TokenFile(Path.Combine(_folder, "tokens.json"));
        File.WriteAllText(file.Path, "{ not json");
        var ex = Assert.Throws<InvalidOperationException>(file.Read);
        Assert.Contains("vigil login", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_renewal_waits_for_another_ones_lock_on_the_token_file_and_gives_up_after_its_timeout()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
        var file = new TokenFile(Path.Combine(_folder, "vigil", "tokens.json"));
        var first = await file.LockAsync(clock, TimeSpan.FromSeconds(30), CancellationToken.None);

        // A second renewal (another process's, in effect: the lock is an flock on its own open file) waits…
        var second = file.LockAsync(clock, TimeSpan.FromSeconds(30), CancellationToken.None);
        for (var i = 0; i < 10; i++) clock.Advance(TokenFile.LockPoll);
        Assert.False(second.IsCompleted);

        // …and gets it at its next try once the first is released.
        first.Dispose();
        clock.Advance(TokenFile.LockPoll);
        using (await second.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            // A third one, held up past its timeout, says what happened instead of waiting for ever.
            var third = file.LockAsync(clock, TimeSpan.FromSeconds(1), CancellationToken.None);
            for (var i = 0; i < 21 && !third.IsCompleted; i++) clock.Advance(TokenFile.LockPoll);
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => third.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("Another vigil", ex.Message, StringComparison.Ordinal);
        }
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path + ".lock"));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
