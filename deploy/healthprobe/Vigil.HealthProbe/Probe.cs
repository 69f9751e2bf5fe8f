namespace Vigil.HealthProbe;

/// <summary>
/// One HTTP GET against a health endpoint: exit code 0 when it answers 2xx within the timeout, 1 when it
/// answers anything else or not at all, 2 on a usage error. Usage: <c>Vigil.HealthProbe URL [TIMEOUT_SECONDS]</c>.
/// </summary>
internal static class Probe
{
    public const int Healthy = 0;
    public const int Unhealthy = 1;
    public const int UsageError = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Length is < 1 or > 2
            || !Uri.TryCreate(args[0], UriKind.Absolute, out var url)
            || url.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync("usage: Vigil.HealthProbe http://127.0.0.1:PORT/health/ready [timeout-seconds]");
            return UsageError;
        }
        var timeout = TimeSpan.FromSeconds(3);
        if (args.Length == 2)
        {
            if (!double.TryParse(args[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                || seconds <= 0 || seconds > 60)
            {
                await error.WriteLineAsync("timeout-seconds must be a number between 0 and 60");
                return UsageError;
            }
            timeout = TimeSpan.FromSeconds(seconds);
        }

        using var http = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return Healthy;
            }
            await error.WriteLineAsync($"{url} answered {(int)response.StatusCode}");
            return Unhealthy;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"{url} did not answer: {ex.GetType().Name}");
            return Unhealthy;
        }
    }
}
