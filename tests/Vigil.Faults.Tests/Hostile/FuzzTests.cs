using Google.Protobuf;
using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Contracts.Auth;
using Vigil.Testing;
using Vigil.Testing.Images;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Hostile;

/// <summary>
/// Bounded, seeded mutation fuzzing against the real processes: every RPC's request bytes mutated and sent
/// straight to the service that owns it (past the gateway, with a token that holds every role, so the bytes reach
/// the parsers and the handlers), and mutated ID/face photos through the identity service's photo pipeline.
/// Every answer must be a clear status (never Unknown, never Internal: no stray exception), and every service
/// must still be alive and ready afterwards.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FuzzTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    /// <summary>The fixed seed: a run is reproducible.</summary>
    public const int Seed = 20261128;

    /// <summary>Mutated requests per RPC.</summary>
    public const int IterationsPerRpc = 30;

    /// <summary>Mutated photos.</summary>
    public const int Photos = 60;

    private readonly Journey _journey = new(stack);

    private static bool IsCrash(Status s) => s.StatusCode is StatusCode.Unknown or StatusCode.Internal;

    [Fact]
    public async Task Mutated_protobuf_requests_to_every_RPC_get_clear_statuses_and_every_service_stays_up()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, 3))[0];
        var ids = new Dictionary<string, string>
        {
            ["learner_id"] = learner.Id, ["session_id"] = learner.SessionId, ["exam_id"] = learner.Exam.ExamId,
            ["course_id"] = learner.CourseId, ["email"] = $"{learner.Id}@example.org",
        };
        // Every role at once: the fuzzed bytes get past authorization into the handlers.
        var token = TestTokens.Mint(new TokenSpec(learner.Id)
        {
            Roles = [VigilRoles.Learner, VigilRoles.Ops], BoardCourses = [learner.CourseId], StaffCourses = [learner.CourseId],
        });
        var mutator = new Mutator(Seed);
        var tried = 0;
        var byStatus = new Dictionary<StatusCode, int>();
        var crashes = new List<string>();
        var unparseable = 0;
        var unparseableByStatus = new Dictionary<string, int>();
        foreach (var method in RawRpc.Methods)
        {
            var target = Owner(method.Service.FullName);
            using var channel = TestChannel.ToProcess(target.GrpcAddress, token);
            var seed = RawRpc.Request(method, ids).ToByteArray();
            for (var i = 0; i < IterationsPerRpc; i++)
            {
                var input = mutator.Mutate(seed);
                var outcome = await RawRpc.CallAsync(channel, method, input, TimeSpan.FromSeconds(5));
                tried++;
                if (!Parses(method, input))
                {
                    // Bytes that are not a message at all: refused before any handler runs, as InvalidArgument
                    // (see Unparseable_request_bytes_are_InvalidArgument_not_Unknown); counted apart.
                    unparseable++;
                    unparseableByStatus[outcome.Status.StatusCode.ToString()] = unparseableByStatus.GetValueOrDefault(outcome.Status.StatusCode.ToString()) + 1;
                    if (IsCrash(outcome.Status)) crashes.Add($"{method.FullName} <- {Convert.ToHexString(input)} (not a message): {outcome.Status}");
                    continue;
                }
                byStatus[outcome.Status.StatusCode] = byStatus.GetValueOrDefault(outcome.Status.StatusCode) + 1;
                if (IsCrash(outcome.Status)) crashes.Add($"{method.FullName} <- {Convert.ToHexString(input)}: {outcome.Status}");
            }
            Assert.False(target.HasExited, $"{target.Name} died while fuzzing {method.FullName}:\n{target.Output}");
        }
        foreach (var p in new[] { stack.Identity, stack.Sessions.First(s => s is { HasExited: false })!, stack.Certificate! }) await p.WaitReadyAsync(FaultStack.Patience);
        Figures.Print(output, "protobuf fuzzing", $"seed {Seed}, RPCs: {RawRpc.Methods.Count}, inputs tried: {tried}, that parse: {tried - unparseable}, their statuses: {string.Join(", ", byStatus.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))}, crashes (Unknown/Internal): {crashes.Count}; not a message: {unparseable}, answered {string.Join(", ", unparseableByStatus.Select(k => $"{k.Key}={k.Value}"))}");
        foreach (var c in crashes.Take(30)) output.WriteLine(c);
        Assert.True(crashes.Count == 0, string.Join("\n", crashes.Take(10)));
    }

    [Fact]
    public async Task Mutated_photos_through_the_photo_pipeline_get_a_verdict_or_a_clear_status_and_identity_stays_up()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, 1))[0];
        var identity = _journey.Identity(learner.Token, stack.Identity);
        byte[][] seeds = [TestImages.IdDocumentJpeg(3), TestImages.FacePng(3)];
        var mutator = new Mutator(Seed + 1);
        var byOutcome = new Dictionary<string, int>();
        var crashes = new List<string>();
        for (var i = 0; i < Photos; i++)
        {
            var seed = seeds[i % seeds.Length];
            // Mostly the headers and first segments, where the container walk and the decoder's setup live.
            var input = mutator.Mutate(seed, focus: i % 3 == 0 ? int.MaxValue : 4096);
            string outcome;
            try
            {
                var reply = await TestVerification.UploadAsync(identity, learner.Exam.ExamId, i % 2 == 0 ? PhotoKind.IdDocument : PhotoKind.Face, input);
                outcome = reply.Verdict.ToString();
            }
            catch (RpcException ex)
            {
                outcome = ex.StatusCode.ToString();
                if (IsCrash(ex.Status)) crashes.Add($"photo {i} ({input.Length} bytes, sha {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}): {ex.Status}");
            }
            byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + 1;
            Assert.False(stack.Identity.HasExited, $"identity died on mutated photo {i}:\n{stack.Identity.Output}");
        }
        await stack.Identity.WaitReadyAsync(FaultStack.Patience);
        Figures.Print(output, "photo pipeline fuzzing", $"seed {Seed + 1}, photos tried: {Photos}, outcomes: {string.Join(", ", byOutcome.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))}, crashes (Unknown/Internal): {crashes.Count}");
        Assert.True(crashes.Count == 0, string.Join("\n", crashes));
    }

    /// <summary>
    /// Bytes that are no protobuf message at all (a field number 0; a length-delimited field claiming 2 GiB),
    /// straight to each service, must be refused as the caller's fault: InvalidArgument, never Unknown.
    /// Regression test of a bug this suite found (grpc-dotnet's Unknown for a request it could not deserialize).
    /// </summary>
    [Fact]
    public async Task Unparseable_request_bytes_are_InvalidArgument_not_Unknown()
    {
        await stack.HealAsync();
        var token = TestTokens.Learner(Journey.Id("learner"));
        byte[][] inputs = [[0x00], [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x41]];
        var methods = new[] { "vigil.identity.v1.IdentityService.CheckEmail", "vigil.session.v1.SessionService.GetSession", "vigil.certificate.v1.DashboardService.GetDashboard" };
        var wrong = new List<string>();
        foreach (var name in methods)
        {
            var method = RawRpc.Methods.First(m => m.FullName == name);
            using var channel = TestChannel.ToProcess(Owner(method.Service.FullName).GrpcAddress, token);
            foreach (var input in inputs)
            {
                Assert.False(Parses(method, input));
                var outcome = await RawRpc.CallAsync(channel, method, input, TimeSpan.FromSeconds(10));
                if (outcome.Status.StatusCode != StatusCode.InvalidArgument) wrong.Add($"{name} <- {Convert.ToHexString(input)}: {outcome.Status}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>Whether the bytes parse as the RPC's request message.</summary>
    internal static bool Parses(Google.Protobuf.Reflection.MethodDescriptor method, byte[] input)
    {
        try
        {
            method.InputType.Parser.ParseFrom(input);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private ServiceProcess Owner(string service) => service switch
    {
        _ when service.StartsWith("vigil.identity.", StringComparison.Ordinal) => stack.Identity,
        _ when service.StartsWith("vigil.session.", StringComparison.Ordinal) => stack.Sessions.First(s => s is { HasExited: false })!,
        _ => stack.Certificate!,
    };

    public void Dispose() => _journey.Dispose();
}
