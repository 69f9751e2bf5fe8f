using System.Globalization;

namespace Vigil.Testing;

/// <summary>
/// The gateway's settings for tests that start it, in YARP's configuration schema (the "ReverseProxy" section
/// of the gateway's appsettings.json: clusters "identity", "session", "certificate", each with destinations).
/// </summary>
public static class GatewaySettings
{
    /// <summary>The gateway's clusters, one per service.</summary>
    public static readonly IReadOnlyList<string> Clusters = ["identity", "session", "certificate"];

    /// <summary>
    /// A cluster's replicas: the first replaces the default destination (named like the cluster), the others
    /// are added. Each replica's health address is its management (HTTP/1.1) address; null probes its gRPC
    /// address. Address host names are resolved per address by the gateway, like a headless Service.
    /// </summary>
    public static Dictionary<string, string?> Cluster(string cluster, params (Uri Grpc, Uri? Health)[] replicas)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < replicas.Length; i++)
        {
            var name = i == 0 ? cluster : $"{cluster}-{i + 1}";
            var prefix = $"ReverseProxy:Clusters:{cluster}:Destinations:{name}:";
            settings[prefix + "Address"] = replicas[i].Grpc.ToString();
            settings[prefix + "Health"] = replicas[i].Health?.ToString() ?? string.Empty;
        }
        return settings;
    }

    /// <summary>The same cluster setting for every cluster, e.g. ("HealthCheck:Active:Interval", "00:00:00.500").</summary>
    public static Dictionary<string, string?> EveryCluster(string key, string value) =>
        Clusters.ToDictionary(c => $"ReverseProxy:Clusters:{c}:{key}", _ => (string?)value);

    /// <summary>Active health checks every <paramref name="interval"/>, each allowed <paramref name="timeout"/>.</summary>
    public static Dictionary<string, string?> HealthChecks(TimeSpan interval, TimeSpan timeout) =>
        Merge(EveryCluster("HealthCheck:Active:Interval", interval.ToString("c", CultureInfo.InvariantCulture)),
              EveryCluster("HealthCheck:Active:Timeout", timeout.ToString("c", CultureInfo.InvariantCulture)));

    /// <summary>Merges settings; later ones win.</summary>
    public static Dictionary<string, string?> Merge(params IEnumerable<KeyValuePair<string, string?>>[] parts)
    {
        var all = new Dictionary<string, string?>();
        foreach (var part in parts)
            foreach (var (k, v) in part) all[k] = v;
        return all;
    }
}
