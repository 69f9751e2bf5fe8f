namespace Vigil.Cli.SignIn;

/// <summary>What to do with the stored tokens before a call.</summary>
internal enum TokenState
{
    /// <summary>The access token has time left: use it.</summary>
    Fresh,

    /// <summary>It expires within the margin (or has): get a new one with the refresh token first.</summary>
    Refresh,

    /// <summary>It has expired and there is no refresh token: the user signs in again.</summary>
    SignInAgain,
}

/// <summary>
/// When the stored access token must be refreshed, and the stored tokens after a token endpoint's answer: pure logic
/// on a clock (<see cref="TimeProvider"/>), so that a long exam's refresh is decided the same way in tests (a fake clock)
/// as at a learner's desk. A token is refreshed <see cref="Margin"/> before it expires, so that a call (or a stream's
/// reconnect) never goes out with a token about to lapse.
/// </summary>
internal sealed class TokenRefresh(TimeProvider clock, TimeSpan? margin = null)
{
    /// <summary>The default margin: a minute before expiry.</summary>
    public static readonly TimeSpan DefaultMargin = TimeSpan.FromMinutes(1);

    /// <summary>How long before expiry the token is refreshed.</summary>
    public TimeSpan Margin { get; } = margin ?? DefaultMargin;

    /// <summary>What to do with <paramref name="tokens"/> now.</summary>
    public TokenState Decide(StoredTokens tokens)
    {
        var now = clock.GetUtcNow();
        if (now < tokens.ExpiresAt - Margin) return TokenState.Fresh;
        return string.IsNullOrEmpty(tokens.RefreshToken) ? (now < tokens.ExpiresAt ? TokenState.Fresh : TokenState.SignInAgain) : TokenState.Refresh;
    }

    /// <summary>
    /// Whether another vigil renewed the sign-in while this one waited for the token file's lock: the file now holds
    /// another access token that is fresh. Then that one is used, and the refresh token this one read (perhaps spent
    /// already) is not sent again.
    /// </summary>
    public bool RenewedMeanwhile(StoredTokens read, StoredTokens now) =>
        !string.Equals(now.AccessToken, read.AccessToken, StringComparison.Ordinal) && Decide(now) == TokenState.Fresh;

    /// <summary>
    /// The tokens to keep after a successful answer received now: its expiry from <c>expires_in</c> (an hour when the
    /// provider does not say), the new refresh token, or the previous one when the provider does not rotate them.
    /// </summary>
    public StoredTokens Received(Uri authority, string clientId, TokenResponse response, string? previousRefreshToken = null)
    {
        if (!response.Succeeded) throw new ArgumentException("Only a successful answer is kept: " + response.Describe(), nameof(response));
        return new StoredTokens(authority, clientId, response.AccessToken!, clock.GetUtcNow() + (response.ExpiresIn ?? TimeSpan.FromHours(1)),
            response.RefreshToken ?? previousRefreshToken);
    }
}
