using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Contracts.Auth;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Hostile;

/// <summary>
/// Every RPC of the contract (enumerated from the compiled descriptors, so a new RPC is covered the day it is
/// added), called through the gateway aimed at a victim's data with five wrong callers: no token, an expired
/// token, a forged signature, another learner, a board member of another course. Each must be refused with the
/// right status, and no refusal may carry the victim's email or (when the caller did not send it) learner id.
/// The same RPCs aimed at a learner and a session that do not exist get the very same answer (existence is
/// told only to whoever may see the thing), and the services refuse a caller without a valid token themselves,
/// without the gateway in front (authorization by default).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class AuthorizationMatrixTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    private readonly Journey _journey = new(stack);

    /// <summary>Open to any signed-in caller and about no one's data (is this address free?).</summary>
    private static readonly HashSet<string> AnyCaller = ["vigil.identity.v1.IdentityService.CheckEmail"];

    /// <summary>Self-service RPCs: a learner acts on their own account, never on someone else's, so "another learner" is not a cross access.</summary>
    private static readonly HashSet<string> SelfService =
    [
        "vigil.identity.v1.IdentityService.RegisterLearner",
        "vigil.identity.v1.IdentityService.CompleteVerificationStep",
        "vigil.identity.v1.IdentityService.UploadPhoto",
        "vigil.session.v1.SessionService.StartSession",
        "vigil.session.v1.SessionService.ListMySessions",
        "vigil.session.v1.ExamService.ListExams",
        "vigil.session.v1.ExamService.GetExam",
    ];

    /// <summary>Whether <paramref name="caller"/> calling <paramref name="method"/> aimed at the victim is a cross access.</summary>
    private static bool IsCrossAccess(MethodDescriptor method, string caller) =>
        !RawRpc.IsAnonymous(method)
        && (caller is "no token" or "expired token" or "forged signature" || !AnyCaller.Contains(method.FullName))
        && (caller != "another learner" || !SelfService.Contains(method.FullName));

    [Fact]
    public async Task Every_RPC_through_the_gateway_refuses_every_wrong_caller_with_the_right_status_and_leaks_nothing()
    {
        await stack.HealAsync();
        var victim = (await _journey.StartedAsync(1, 2))[0];
        await _journey.AnswerAndSubmitAsync(victim);
        var victimEmail = $"{victim.Id}@example.org";
        var ids = new Dictionary<string, string>
        {
            ["learner_id"] = victim.Id,
            ["session_id"] = victim.SessionId,
            ["exam_id"] = victim.Exam.ExamId,
            ["course_id"] = victim.CourseId,
            ["email"] = victimEmail,
        };
        var ghostIds = new Dictionary<string, string>(ids)
        {
            ["learner_id"] = Journey.Id("nobody"),
            ["session_id"] = "ses-" + Guid.NewGuid().ToString("N"),
            ["email"] = Journey.Id("nobody") + "@example.org",
        };
        // A well-formed exam for the course (what its staff would send), so CreateExam is refused for who calls, not for what.
        var template = victim.Exam.Clone();
        template.ExamId = string.Empty;
        template.Version = 0;
        var intruder = TestTokens.Learner(Journey.Id("intruder"), "Mallory");
        var callers = new Dictionary<string, (string? Token, StatusCode Expected)>
        {
            ["no token"] = (null, StatusCode.Unauthenticated),
            ["expired token"] = (TestTokens.Custom(victim.Id, [VigilRoles.Learner], lifetime: TimeSpan.FromMinutes(5), now: DateTimeOffset.UtcNow.AddHours(-2)), StatusCode.Unauthenticated),
            ["forged signature"] = (TestTokens.Custom(victim.Id, [VigilRoles.Learner], key: Convert.ToBase64String(new byte[32])), StatusCode.Unauthenticated),
            ["another learner"] = (intruder, StatusCode.PermissionDenied),
            ["board of another course"] = (TestTokens.Board(Journey.Id("board"), Journey.Id("other-course")), StatusCode.PermissionDenied),
        };

        var checkedCalls = 0;
        var failures = new List<string>();
        foreach (var method in RawRpc.Methods)
        {
            foreach (var (caller, (token, expected)) in callers)
            {
                if (!IsCrossAccess(method, caller)) continue;
                var request = RawRpc.Request(method, ids);
                RawRpc.Plausible(request, Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(10)),
                    method.Name == "UpdateExam" ? victim.Exam.Clone() : template);
                var sentText = request.ToString() ?? string.Empty;
                var outcome = await RawRpc.CallAsync(_journey.Invoker(token), method, request.ToByteArray(), TimeSpan.FromSeconds(10));
                checkedCalls++;
                if (outcome.Status.StatusCode != expected)
                {
                    failures.Add($"{method.FullName} as {caller}: expected {expected}, got {outcome.Status.StatusCode} \"{outcome.Status.Detail}\"");
                }
                if (expected == StatusCode.Unauthenticated)
                {
                    // Straight at the owning service, past the gateway: the service refuses by itself.
                    var bypass = await RawRpc.CallAsync(_journey.Invoker(token, Owner(method)), method, request.ToByteArray(), TimeSpan.FromSeconds(10));
                    checkedCalls++;
                    if (bypass.Status.StatusCode != StatusCode.Unauthenticated)
                    {
                        failures.Add($"{method.FullName} as {caller}, straight at the service: expected Unauthenticated, got {bypass.Status.StatusCode} \"{bypass.Status.Detail}\"");
                    }
                }
                else if (sentText.Contains(victim.Id, StringComparison.Ordinal) || sentText.Contains(victim.SessionId, StringComparison.Ordinal))
                {
                    // The same call aimed at a learner and a session that do not exist: not a word more.
                    var ghost = RawRpc.Request(method, ghostIds);
                    RawRpc.Plausible(ghost, Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(10)),
                        method.Name == "UpdateExam" ? victim.Exam.Clone() : template);
                    var missing = await RawRpc.CallAsync(_journey.Invoker(token), method, ghost.ToByteArray(), TimeSpan.FromSeconds(10));
                    checkedCalls++;
                    if (missing.Status.StatusCode != outcome.Status.StatusCode || missing.Status.Detail != outcome.Status.Detail)
                    {
                        failures.Add($"{method.FullName} as {caller}: a missing learner or session answers {missing.Status.StatusCode} \"{missing.Status.Detail}\", "
                            + $"an existing one {outcome.Status.StatusCode} \"{outcome.Status.Detail}\": that tells what exists");
                    }
                }
                if (outcome.Text.Contains(victimEmail, StringComparison.OrdinalIgnoreCase) && !sentText.Contains(victimEmail, StringComparison.Ordinal))
                {
                    failures.Add($"{method.FullName} as {caller}: the answer carries the victim's email");
                }
                if (outcome.Text.Contains(victim.Id, StringComparison.Ordinal) && !sentText.Contains(victim.Id, StringComparison.Ordinal))
                {
                    failures.Add($"{method.FullName} as {caller}: the answer carries the victim's learner id");
                }
            }
        }
        Figures.Print(output, "authorization matrix", $"RPCs: {RawRpc.Methods.Count}, calls checked: {checkedCalls}, wrong answers: {failures.Count}");
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // The victim still reads their own session: the refusals were about the callers, not a broken route.
        var own = await _journey.Sessions(victim.Token).GetSessionAsync(new() { SessionId = victim.SessionId });
        Assert.Equal(victim.Id, own.Session.LearnerId);
    }

    private ServiceProcess Owner(MethodDescriptor method) => method.Service.FullName switch
    {
        var s when s.StartsWith("vigil.identity.", StringComparison.Ordinal) => stack.Identity,
        var s when s.StartsWith("vigil.session.", StringComparison.Ordinal) => stack.Sessions.First(p => p is { HasExited: false })!,
        _ => stack.Certificate!,
    };

    public void Dispose() => _journey.Dispose();
}
