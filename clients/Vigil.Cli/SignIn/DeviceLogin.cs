using Vigil.Cli.Cli;

namespace Vigil.Cli.SignIn;

/// <summary>
/// <c>vigil login</c>: the device authorization grant (RFC 8628), the way a desktop client without a browser of its own
/// signs in. It prints where to go and the code to enter, polls the token endpoint at the provider's pace
/// (<see cref="DevicePolling"/>) until the user has signed the device in (or refused, or the code expired), and keeps
/// the tokens in the user's <see cref="TokenFile"/>. It never prints a token.
/// </summary>
internal sealed class DeviceLogin(HttpClient http, TimeProvider clock, Output output)
{
    public async Task<StoredTokens> RunAsync(Uri authority, string clientId, TokenFile file, CancellationToken cancellationToken)
    {
        var endpoints = await ProviderEndpoints.DiscoverAsync(http, authority, cancellationToken);
        var client = new OidcClient(http, endpoints, clientId);
        var device = await client.StartDeviceAsync(cancellationToken);
        var polling = new DevicePolling(clock, device.Interval, clock.GetUtcNow() + device.ExpiresIn);

        output.Line($"To sign this device in, open {device.VerificationUri}");
        output.Line($"and enter the code {device.UserCode}");
        if (device.VerificationUriComplete is { } complete) output.Line($"(or open {complete})");
        output.Line($"Waiting for the sign-in (the code expires at {polling.ExpiresAt.ToLocalTime():HH:mm:ss})…");
        output.Emit(new System.Text.Json.Nodes.JsonObject
        {
            ["verificationUri"] = device.VerificationUri.ToString(),
            ["verificationUriComplete"] = device.VerificationUriComplete?.ToString(),
            ["userCode"] = device.UserCode,
            ["expiresAt"] = polling.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });

        while (true)
        {
            await Task.Delay(polling.Interval, clock, cancellationToken);
            switch (polling.Next(await client.PollAsync(device.DeviceCode, cancellationToken)))
            {
                case PollStep.Done done:
                    var tokens = new TokenRefresh(clock).Received(authority, clientId, done.Tokens);
                    file.Write(tokens);
                    return tokens;
                case PollStep.Failed failed:
                    throw new InvalidOperationException(failed.Message);
            }
        }
    }
}
