using Microsoft.Extensions.Time.Testing;
using Vigil.Cli.SignIn;

namespace Vigil.Cli.Tests.SignIn;

/// <summary>When the stored access token is used, renewed or no longer any good, on a fake clock; what is kept after an answer.</summary>
public sealed class TokenRefreshTests
{
    private static readonly Uri Authority = new("https://id.example.org/");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    private StoredTokens Tokens(TimeSpan lifetime, string? refreshToken = "r1") =>
        new(Authority, "vigil-cli", "a1", _clock.GetUtcNow() + lifetime, refreshToken);

    [Fact]
    public void A_token_is_used_until_the_margin_before_its_expiry_then_renewed()
    {
        var refresh = new TokenRefresh(_clock, TimeSpan.FromMinutes(1));
        var tokens = Tokens(TimeSpan.FromMinutes(15));

        Assert.Equal(TokenState.Fresh, refresh.Decide(tokens));
        _clock.Advance(TimeSpan.FromMinutes(13) + TimeSpan.FromSeconds(59));
        Assert.Equal(TokenState.Fresh, refresh.Decide(tokens));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TokenState.Refresh, refresh.Decide(tokens));
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(TokenState.Refresh, refresh.Decide(tokens));
    }

    [Fact]
    public void Without_a_refresh_token_it_is_used_to_its_last_second_then_the_user_signs_in_again()
    {
        var refresh = new TokenRefresh(_clock);
        var tokens = Tokens(TimeSpan.FromMinutes(5), refreshToken: null);

        _clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(59));
        Assert.Equal(TokenState.Fresh, refresh.Decide(tokens));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TokenState.SignInAgain, refresh.Decide(tokens));
    }

    [Fact]
    public void An_answer_is_kept_with_its_expiry_on_this_clock_and_the_refresh_token_it_brings_or_the_previous_one()
    {
        var refresh = new TokenRefresh(_clock);

        var rotated = refresh.Received(Authority, "vigil-cli", new TokenResponse("a2", "r2", TimeSpan.FromSeconds(900), null, null), previousRefreshToken: "r1");
        Assert.Equal(("a2", "r2", _clock.GetUtcNow().AddMinutes(15)), (rotated.AccessToken, rotated.RefreshToken, rotated.ExpiresAt));

        var kept = refresh.Received(Authority, "vigil-cli", new TokenResponse("a3", null, null, null, null), previousRefreshToken: "r2");
        Assert.Equal(("a3", "r2", _clock.GetUtcNow().AddHours(1)), (kept.AccessToken, kept.RefreshToken, kept.ExpiresAt));

        Assert.Throws<ArgumentException>(() => refresh.Received(Authority, "vigil-cli", new TokenResponse(null, null, null, "invalid_grant", "revoked")));
    }

    [Fact]
    public void Tokens_another_vigil_renewed_while_this_one_waited_are_used_instead_of_spending_the_refresh_token_again()
    {
        var refresh = new TokenRefresh(_clock, TimeSpan.FromMinutes(1));
        var read = Tokens(TimeSpan.FromSeconds(30));

        // The other renewed it: a new access token with its lifetime ahead (and, from a rotating provider, a new refresh token).
        Assert.True(refresh.RenewedMeanwhile(read, read with { AccessToken = "a2", RefreshToken = "r2", ExpiresAt = _clock.GetUtcNow().AddMinutes(15) }));
        // Nobody renewed it: the same tokens; this one renews.
        Assert.False(refresh.RenewedMeanwhile(read, read));
        // Another token, but about to expire too (another sign-in written meanwhile, itself due): renew that one.
        Assert.False(refresh.RenewedMeanwhile(read, read with { AccessToken = "a2", ExpiresAt = _clock.GetUtcNow().AddSeconds(20) }));
    }
}
