using System.Globalization;

namespace Vigil.Deploy.Tests;

/// <summary>
/// A session replica refuses new exam streams (with a retry hint) at Session:MaxOpenStreams, long before its
/// memory limit would have the kubelet kill it with every stream it holds: in each overlay the limit is set, and
/// the streams it allows fit the container's memory limit at the measured cost per stream
/// (docs/benchmarks.md: 22.8 KB of RSS per open stream at 20,000 streams in the full-size exam day of 2026-12-02, 21.1 KB in the
/// one before; the process was 179–230 MB before them),
/// with room for the garbage collector's headroom. docs/operations.md, "Capacity for an exam day".
/// </summary>
public sealed class StreamCapacityTests
{
    /// <summary>RSS of a session replica before its streams (measured 230 MB), rounded up.</summary>
    public const long BaselineBytes = 256L << 20;

    /// <summary>RSS per open exam stream, measured at 20,000 streams (the larger of the two full-size runs).</summary>
    public const long BytesPerStream = 22_800;

    /// <summary>The managed heap grows past its live size between collections: half again on top.</summary>
    public const double GcHeadroom = 1.5;

    public static long MemoryNeeded(int streams) => BaselineBytes + (long)(streams * BytesPerStream * GcHeadroom);

    [Theory]
    [MemberData(nameof(KubernetesRender.Overlays), MemberType = typeof(KubernetesRender))]
    public void A_session_replica_pushes_back_before_its_memory_limit(string overlay)
    {
        var render = KubernetesRender.Render(overlay);
        var env = render.Environment("session");
        Assert.True(env.TryGetValue("Session__MaxOpenStreams", out var set) && set.Value is not null,
            $"{overlay}: the session Deployment must set Session__MaxOpenStreams for its memory limit (the default, 30,000, needs {MemoryNeeded(30_000) >> 20} MiB)");
        var streams = int.Parse(set!.Value!, CultureInfo.InvariantCulture);
        var limit = render.Limit("session", "memory");
        Assert.True(limit is not null, $"{overlay}: the session Deployment has no memory limit");
        var bytes = KubernetesRender.Bytes(limit!);
        Assert.True(MemoryNeeded(streams) <= bytes,
            $"{overlay}: Session__MaxOpenStreams={streams} needs about {MemoryNeeded(streams) >> 20} MiB, the memory limit is {limit}: at most {(bytes - BaselineBytes) / (long)(BytesPerStream * GcHeadroom)} streams");
    }

    [Theory]
    [InlineData("512Mi", 512L << 20)]
    [InlineData("1Gi", 1L << 30)]
    [InlineData("768Mi", 768L << 20)]
    [InlineData("1G", 1_000_000_000L)]
    [InlineData("800000000", 800_000_000L)]
    public void Memory_quantities_read_as_Kubernetes_writes_them(string quantity, long bytes) =>
        Assert.Equal(bytes, KubernetesRender.Bytes(quantity));

    [Fact]
    public void The_default_stream_limit_does_not_fit_a_512Mi_replica() =>
        Assert.True(MemoryNeeded(30_000) > 512L << 20);
}
