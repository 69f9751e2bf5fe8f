using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Testing;
using Vigil.Testing.Images;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Hostile;

/// <summary>
/// Oversized messages, uploads that never end or stop halfway, client streams left open, garbage bytes on the
/// gRPC ports: clear statuses, bounded memory, and the services stay up and keep serving.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class AbuseTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    private readonly Journey _journey = new(stack);

    private IEnumerable<ServiceProcess> Live => new[] { stack.Identity, stack.Sessions.First(s => s is { HasExited: false })!, stack.Certificate!, stack.Gateway };

    [Fact]
    public async Task Oversized_messages_are_refused_with_ResourceExhausted_and_the_services_stay_up()
    {
        await stack.HealAsync();
        var token = TestTokens.Learner(Journey.Id("learner"));
        // 6 MiB in a string field: above gRPC's 4 MiB receive limit.
        var huge = new GetSessionRequest { SessionId = new string('x', 6 * 1024 * 1024) }.ToByteArray();
        var method = RawRpc.Methods.First(m => m.FullName == "vigil.session.v1.SessionService.GetSession");
        var checkedTargets = new List<string>();
        foreach (var target in new[] { stack.Sessions.First(s => s is { HasExited: false })!, stack.Gateway })
        {
            using var channel = TestChannel.ToProcess(target.GrpcAddress, token);
            var outcome = await RawRpc.CallAsync(channel, method, huge, TimeSpan.FromSeconds(20));
            Assert.Equal(StatusCode.ResourceExhausted, outcome.Status.StatusCode);
            checkedTargets.Add($"{target.Name}={outcome.Status.StatusCode}");
        }
        await AllReadyAsync();
        Figures.Print(output, "oversized message", $"6 MiB GetSession: {string.Join(", ", checkedTargets)}; services ready afterwards");
    }

    [Fact]
    public async Task An_upload_that_never_ends_is_cut_off_with_a_clear_status_and_bounded_memory()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, 1))[0];
        var identity = _journey.Identity(learner.Token, stack.Identity);
        var rssBefore = RssMiB(stack.Identity.Pid);
        using var call = identity.UploadPhoto(deadline: DateTime.UtcNow.AddSeconds(30));
        // Every wait of this test is bounded on its own (not only by the call's deadline): a write blocked by flow
        // control once the server stopped reading, or an answer that never comes, fails with the processes' logs
        // instead of hanging the suite (it hung once, in a loaded CI run, until the 10-minute blame timeout).
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await call.RequestStream.WriteAsync(new UploadPhotoRequest { Metadata = new PhotoMetadata { RequestId = Journey.RequestId(), ExamId = learner.Exam.ExamId, Kind = PhotoKind.IdDocument, DeclaredSize = 1_000_000 } }, bound.Token);
        var chunk = ByteString.CopyFrom(new byte[1024 * 1024]);
        long sent = 0;
        var peak = rssBefore;
        Exception? writeEnded = null;
        try
        {
            // Up to 256 MiB: the server must stop it long before.
            while (sent < 256L * 1024 * 1024)
            {
                await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = chunk }, bound.Token);
                sent += chunk.Length;
                if (sent % (8 * 1024 * 1024) == 0) peak = Math.Max(peak, RssMiB(stack.Identity.Pid));
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException or OperationCanceledException)
        {
            // The server ended the call (or the bound was reached: then the answer below tells which).
            writeEnded = ex;
        }
        RpcException status;
        try
        {
            status = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(60)));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"No answer to an endless upload 60 s after the client stopped writing ({sent / (1024 * 1024)} MiB sent; writing ended with " +
                $"{writeEnded?.GetType().Name ?? "nothing"}: {writeEnded?.Message}).\n{stack.Logs()}");
        }
        peak = Math.Max(peak, RssMiB(stack.Identity.Pid));
        Figures.Print(output, "upload that never ends", $"sent {sent / (1024 * 1024)} MiB before the server stopped it with {status.StatusCode}; identity RSS {rssBefore} MiB before, peak {peak} MiB");
        Assert.Contains(status.StatusCode, new[] { StatusCode.InvalidArgument, StatusCode.ResourceExhausted, StatusCode.FailedPrecondition });
        Assert.True(sent < 64L * 1024 * 1024, $"The server read {sent / (1024 * 1024)} MiB of an upload limited to 10 MiB.");
        Assert.True(peak - rssBefore < 300, $"identity's memory grew by {peak - rssBefore} MiB.");
        await AllReadyAsync();
    }

    [Fact]
    public async Task Uploads_that_stop_halfway_and_client_streams_left_open_leave_the_service_serving()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, 1))[0];
        var exam = learner.Exam.ExamId;
        var photo = TestImages.IdDocumentJpeg(7);
        var direct = _journey.Identity(learner.Token, stack.Identity);
        // Ten uploads that send half the photo and drop the connection.
        for (var i = 0; i < 10; i++)
        {
            using var cts = new CancellationTokenSource();
            using var call = direct.UploadPhoto(cancellationToken: cts.Token);
            await call.RequestStream.WriteAsync(new UploadPhotoRequest { Metadata = new PhotoMetadata { RequestId = Journey.RequestId(), ExamId = exam, Kind = PhotoKind.IdDocument, DeclaredSize = photo.Length } });
            await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(photo, 0, photo.Length / 2) });
            await cts.CancelAsync();
        }
        // Forty client streams through the gateway that never complete.
        var open = new List<AsyncClientStreamingCall<UploadPhotoRequest, UploadPhotoResponse>>();
        var viaGateway = _journey.Identity(learner.Token);
        for (var i = 0; i < 40; i++)
        {
            var call = viaGateway.UploadPhoto();
            await call.RequestStream.WriteAsync(new UploadPhotoRequest { Metadata = new PhotoMetadata { RequestId = Journey.RequestId(), ExamId = exam, Kind = PhotoKind.Face, DeclaredSize = 1000 } });
            open.Add(call);
        }
        // Meanwhile a whole upload goes through, and the half ones left nothing behind.
        var started = DateTime.UtcNow;
        var whole = await TestVerification.UploadAsync(direct, exam, PhotoKind.IdDocument, photo);
        var took = DateTime.UtcNow - started;
        foreach (var c in open) c.Dispose();
        Figures.Print(output, "half uploads and open streams", $"half uploads dropped: 10, client streams left open: {open.Count}, a whole upload meanwhile: {whole.Verdict} in {took.TotalMilliseconds:0} ms");
        Assert.Equal(PhotoVerdict.Accepted, whole.Verdict);
        await AllReadyAsync();
    }

    [Fact]
    public async Task Garbage_bytes_on_the_gRPC_ports_are_dropped_and_the_services_keep_serving()
    {
        await stack.HealAsync();
        var random = new Random(FuzzTests.Seed + 2);
        byte[][] payloads =
        [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray()[..10],
            [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), 0xFF, 0xFF, 0xFF, 0x09, 0xFF, 0x00, 0x00, 0x00, 0x01],
            [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, .. Enumerable.Repeat((byte)0x41, 4000)],
            new byte[0],
        ];
        var connections = 0;
        foreach (var target in Live)
        {
            for (var i = 0; i < 12; i++)
            {
                var payload = i < payloads.Length ? payloads[i] : RandomBytes(random, 1 + random.Next(8192));
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", target.GrpcPort);
                var stream = tcp.GetStream();
                try
                {
                    await stream.WriteAsync(payload);
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    var buffer = new byte[4096];
                    while (await stream.ReadAsync(buffer, cts.Token) > 0) { }
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
                {
                    // Closed or reset by the server, or it waits for more: all fine as long as it stays up.
                }
                connections++;
            }
            Assert.False(target.HasExited, $"{target.Name} died on garbage bytes:\n{target.Output}");
        }
        await AllReadyAsync();
        // And a real call through the gateway still works.
        var staff = TestTokens.Staff(Journey.Id("staff"), "garbage-course");
        var refused = await Assert.ThrowsAsync<RpcException>(() => _journey.Exams(staff).GetExamAsync(new GetExamRequest { ExamId = "no-such-exam" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Figures.Print(output, "garbage bytes on gRPC ports", $"connections of garbage: {connections} to {Live.Count()} ports; every service ready afterwards");
    }

    private static byte[] RandomBytes(Random random, int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    private async Task AllReadyAsync()
    {
        foreach (var p in Live)
        {
            Assert.False(p.HasExited, $"{p.Name} exited:\n{p.Output}");
            await p.WaitReadyAsync(FaultStack.Patience);
        }
    }

    /// <summary>A process's resident memory in MiB (Linux /proc).</summary>
    private static long RssMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }

    public void Dispose() => _journey.Dispose();
}
