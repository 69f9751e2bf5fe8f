using System.ComponentModel.DataAnnotations;

namespace Vigil.Gateway.Routing;

/// <summary>The gateway's own settings, bound from the "Gateway" section.</summary>
internal sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway";

    /// <summary>
    /// How long a proxied request may go without any byte either way. YARP's default is 100 s; an exam stream
    /// sends heartbeats every few seconds, but a board member's long watch or a learner's dashboard watch may
    /// sit silent, and the exam itself may last hours, so the default keeps a whole exam open.
    /// </summary>
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromHours(4);

    /// <summary>How often each destination's readiness is probed.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The path probed on each destination's health address.</summary>
    public string HealthCheckPath { get; set; } = "/health/ready";

    /// <summary>The YARP load-balancing policy across a cluster's replicas.</summary>
    [Required]
    public string LoadBalancingPolicy { get; set; } = "PowerOfTwoChoices";

    /// <summary>Photo uploads a learner may start per <see cref="RateLimitWindow"/>.</summary>
    [Range(1, 100000)]
    public int PhotoUploadsPerWindow { get; set; } = 20;

    /// <summary>Session starts a learner may request per <see cref="RateLimitWindow"/>.</summary>
    [Range(1, 100000)]
    public int SessionStartsPerWindow { get; set; } = 10;

    /// <summary>The rate limits' window.</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Where the services are, bound from the "Services" section: comma-separated gRPC addresses per service
/// (several for replicas) and, optionally, their management (health) addresses in the same order.
/// </summary>
internal sealed class ServiceAddresses
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Services";

    /// <summary>The identity service's gRPC addresses.</summary>
    [Required]
    public string Identity { get; set; } = "http://127.0.0.1:5101";

    /// <summary>The identity service's management addresses (health probes); empty: probe the gRPC address.</summary>
    public string? IdentityHealth { get; set; }

    /// <summary>The session service's gRPC addresses.</summary>
    [Required]
    public string Session { get; set; } = "http://127.0.0.1:5102";

    /// <summary>The session service's management addresses.</summary>
    public string? SessionHealth { get; set; }

    /// <summary>The certificate service's gRPC addresses.</summary>
    [Required]
    public string Certificate { get; set; } = "http://127.0.0.1:5103";

    /// <summary>The certificate service's management addresses.</summary>
    public string? CertificateHealth { get; set; }

    /// <summary>Splits a comma-separated list.</summary>
    public static string[] Split(string? list) =>
        (list ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
