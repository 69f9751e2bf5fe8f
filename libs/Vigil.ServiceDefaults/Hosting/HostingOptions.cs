using System.ComponentModel.DataAnnotations;

namespace Vigil.ServiceDefaults.Hosting;

/// <summary>Options shared by every service, bound from the "Hosting" section.</summary>
public sealed class HostingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hosting";

    /// <summary>Whether gRPC server reflection is on (grpcurl and similar tools). On by default; turn off where not wanted.</summary>
    public bool EnableReflection { get; set; } = true;

    /// <summary>The largest gRPC message accepted, in bytes (gRPC's own default is 4 MiB).</summary>
    [Range(64 * 1024, 64 * 1024 * 1024)]
    public int MaxReceiveMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long the host waits for work in flight to finish on shutdown (less than Kubernetes' grace period).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long readiness reports not-serving before open streams are told to reconnect elsewhere.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(2);
}
