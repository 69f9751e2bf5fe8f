namespace Vigil.Cli.SignIn;

/// <summary>The next step of a device sign-in after one answer of the token endpoint.</summary>
internal abstract record PollStep
{
    /// <summary>The user signed the device in: these are the tokens.</summary>
    public sealed record Done(TokenResponse Tokens) : PollStep;

    /// <summary>Not yet: ask again after this long.</summary>
    public sealed record Wait(TimeSpan Delay) : PollStep;

    /// <summary>It will not happen: the message says why and what to do.</summary>
    public sealed record Failed(string Message) : PollStep;
}

/// <summary>
/// The device authorization grant's polling rules (RFC 8628 §3.4-3.5), pure on a clock: <c>authorization_pending</c> asks
/// again after the interval the provider gave (5 s when it gave none), <c>slow_down</c> widens it by 5 s for good,
/// <c>access_denied</c> and <c>expired_token</c> end with a clear message, and so does the device code's own expiry.
/// </summary>
internal sealed class DevicePolling(TimeProvider clock, TimeSpan? interval, DateTimeOffset expiresAt)
{
    /// <summary>What RFC 8628 says to wait when the provider names no interval, and what slow_down adds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>The wait between two polls (wider after each slow_down).</summary>
    public TimeSpan Interval { get; private set; } = interval is { } i && i > TimeSpan.Zero ? i : DefaultInterval;

    /// <summary>When the device code expires.</summary>
    public DateTimeOffset ExpiresAt => expiresAt;

    /// <summary>The step after <paramref name="answer"/>.</summary>
    public PollStep Next(TokenResponse answer)
    {
        if (answer.Succeeded) return new PollStep.Done(answer);
        switch (answer.Error)
        {
            case "authorization_pending":
                break;
            case "slow_down":
                Interval += DefaultInterval;
                break;
            case "access_denied":
                return new PollStep.Failed("The sign-in was refused at the identity provider (access_denied): run `vigil login` again to sign in.");
            case "expired_token":
                return Expired();
            default:
                return new PollStep.Failed("The identity provider refused the device sign-in: " + answer.Describe());
        }
        return clock.GetUtcNow() + Interval >= expiresAt ? Expired() : new PollStep.Wait(Interval);
    }

    private static PollStep.Failed Expired() =>
        new("The code expired before the device was signed in (expired_token): run `vigil login` again for a new one.");
}
