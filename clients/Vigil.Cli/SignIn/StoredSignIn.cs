namespace Vigil.Cli.SignIn;

/// <summary>
/// The signed-in user's access token for a command: read from the <see cref="TokenFile"/>, renewed with the refresh token
/// at the provider when it is about to expire (<see cref="TokenRefresh"/>), the renewed tokens written back. With the
/// provider unreachable, a token that has not expired yet is still used. A renewal holds the token file's lock
/// (<see cref="TokenFile.LockAsync"/>), so that two vigil processes never spend the same refresh token: the second one
/// waits, reads the first one's renewed tokens and uses them.
/// </summary>
internal sealed class StoredSignIn(TokenFile file, TimeProvider clock)
{
    public static StoredSignIn ForUser() => new(TokenFile.ForUser(), TimeProvider.System);

    /// <summary>
    /// The access token to call with, or null when nobody is signed in; <paramref name="renew"/> renews it even if it
    /// looks fresh (the server said it expired). Throws <see cref="InvalidOperationException"/> when the sign-in has
    /// lapsed and cannot be renewed, with what to do.
    /// </summary>
    public async Task<string?> AccessTokenAsync(bool renew, CancellationToken cancellationToken)
    {
        if (file.Read() is not { } tokens) return null;
        var refresh = new TokenRefresh(clock);
        var state = renew && !string.IsNullOrEmpty(tokens.RefreshToken) ? TokenState.Refresh : refresh.Decide(tokens);
        switch (state)
        {
            case TokenState.Fresh:
                return tokens.AccessToken;
            case TokenState.SignInAgain:
                throw new InvalidOperationException($"Your sign-in at {tokens.Authority} has expired: run `vigil login --provider {tokens.Authority}` again.");
        }
        using var held = await file.LockAsync(clock, TimeSpan.FromSeconds(30), cancellationToken);
        if (file.Read() is not { } current) return null; // signed out meanwhile
        if (refresh.RenewedMeanwhile(tokens, current)) return current.AccessToken;
        tokens = current;
        TokenResponse answer;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var endpoints = await ProviderEndpoints.DiscoverAsync(http, tokens.Authority, cancellationToken);
            answer = await new OidcClient(http, endpoints, tokens.ClientId).RefreshAsync(tokens.RefreshToken!, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (!renew && clock.GetUtcNow() < tokens.ExpiresAt) return tokens.AccessToken;
            throw new InvalidOperationException($"Your sign-in at {tokens.Authority} could not be renewed, the provider did not answer ({ex.Message}); try again, or run `vigil login --provider {tokens.Authority}`.", ex);
        }
        if (!answer.Succeeded)
        {
            throw new InvalidOperationException($"Your sign-in at {tokens.Authority} could not be renewed ({answer.Describe()}): run `vigil login --provider {tokens.Authority}` again.");
        }
        var renewed = refresh.Received(tokens.Authority, tokens.ClientId, answer, tokens.RefreshToken);
        file.Write(renewed);
        return renewed.AccessToken;
    }
}
