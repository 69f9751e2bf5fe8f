using System.ComponentModel.DataAnnotations;

namespace Vigil.Gateway.Routing;

/// <summary>
/// The gateway's own settings, bound from the "Gateway" section. Routes, clusters, destinations, health
/// checks, timeouts and balancing are YARP's and live in the "ReverseProxy" section (docs/gateway.md).
/// </summary>
internal sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway";

    /// <summary>
    /// How often each destination's host name is resolved again (a Kubernetes headless Service answers one
    /// address per ready pod): a pod added by the autoscaler gets calls and new streams within this period.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan DestinationRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The passive health check's window (YARP's TransportFailureRate policy): the failure rate of proxied calls is
    /// taken over it, and a destination it marked unhealthy comes back no sooner than it, whatever the cluster's
    /// <c>Passive:ReactivationPeriod</c> says (YARP raises a shorter period to the window, 60 s by default). With the
    /// default, one SIGKILLed session replica took every stream down with it and the gateway then refused the
    /// restarted replica, healthy by its active probe, for a whole minute: the reconnect storm found it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PassiveHealthWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Photo uploads a learner may start per <see cref="RateLimitWindow"/>.</summary>
    [Range(1, 100000)]
    public int PhotoUploadsPerWindow { get; set; } = 20;

    /// <summary>Session starts a learner may request per <see cref="RateLimitWindow"/>.</summary>
    [Range(1, 100000)]
    public int SessionStartsPerWindow { get; set; } = 10;

    /// <summary>The rate limits' window.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);
}
