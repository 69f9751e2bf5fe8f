using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Contracts.Auth;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing.Images;

namespace Vigil.Testing;

/// <summary>
/// The steps of an exam as the real RPCs, for every suite: course staff create the exam, a learner registers,
/// goes through the verification phase, starts, saves and submits, the board decides, the dashboard shows the
/// result. Calls go to the <c>front</c> endpoint (a gateway, or an in-process service) with the caller's token,
/// identity calls to their own endpoint when given; any call can go straight to another endpoint (a replica).
/// One channel per endpoint, shared by every caller (the token travels with each call), disposed with the journey.
/// </summary>
public sealed class Journey : IDisposable
{
    private readonly IGrpcEndpoint _front;
    private readonly IGrpcEndpoint _identity;
    private readonly ConcurrentDictionary<IGrpcEndpoint, Lazy<GrpcChannel>> _channels = new();
    private readonly GrpcChannel? _shared;

    /// <param name="front">Where calls go (the gateway of a stack, or the service under test).</param>
    /// <param name="identity">Where identity calls go, when not to <paramref name="front"/>.</param>
    /// <param name="clock">The clock of the services under test (a fake one in the in-process suites): exams open by it.</param>
    public Journey(IGrpcEndpoint front, IGrpcEndpoint? identity = null, TimeProvider? clock = null)
    {
        _front = front;
        _identity = identity ?? front;
        Clock = clock ?? TimeProvider.System;
    }

    /// <param name="shared">A channel the caller owns (and disposes), e.g. the benchmark's tuned connection to a gateway: every call goes there.</param>
    /// <param name="clock">The clock of the services under test.</param>
    public Journey(GrpcChannel shared, TimeProvider? clock = null)
    {
        _shared = shared;
        _front = _identity = new SharedEndpoint(shared);
        Clock = clock ?? TimeProvider.System;
    }

    /// <summary>
    /// Where the journey's tokens come from (staff creating exams, learners, board members): the kit's test signer
    /// (<see cref="TestTokens.Mint"/>) unless told, e.g. <c>spec => provider.TokenAsync(spec)</c> for a stack that
    /// trusts the development provider (<see cref="DevProvider"/>).
    /// </summary>
    public Func<TokenSpec, Task<string>> Tokens { get; init; } = spec => Task.FromResult(TestTokens.Mint(spec));

    /// <summary>The clock the services under test read: exam windows are built from it.</summary>
    public TimeProvider Clock { get; }

    /// <summary>A new id with a readable prefix, e.g. "learner-1a2b3c4d5e6f".</summary>
    public static string Id(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>A new request id (idempotency key).</summary>
    public static string RequestId() => Guid.NewGuid().ToString("N");

    /// <summary>Calls to <paramref name="via"/> (the front when null) as the bearer of <paramref name="token"/> (anonymous when null).</summary>
    public CallInvoker Invoker(string? token, IGrpcEndpoint? via = null)
    {
        var endpoint = via ?? _front;
        var channel = _channels.GetOrAdd(endpoint, e => new Lazy<GrpcChannel>(() => e.Channel(null))).Value;
        return TestChannel.As(channel, token);
    }

    /// <summary>The identity service as the bearer of <paramref name="token"/> (straight at <paramref name="via"/> when given).</summary>
    public IdentityService.IdentityServiceClient Identity(string? token, IGrpcEndpoint? via = null) => new(Invoker(token, via ?? _identity));

    /// <summary>The learner's session service, through the front or straight to <paramref name="via"/> (a replica).</summary>
    public SessionService.SessionServiceClient Sessions(string? token, IGrpcEndpoint? via = null) => new(Invoker(token, via));

    /// <summary>The learner's session service straight at a process's address.</summary>
    public SessionService.SessionServiceClient Sessions(string? token, Uri direct) => Sessions(token, TestChannel.Endpoint(direct));

    /// <summary>The staff's exam service.</summary>
    public ExamService.ExamServiceClient Exams(string? token, IGrpcEndpoint? via = null) => new(Invoker(token, via));

    /// <summary>The exam board's service.</summary>
    public ExamBoardService.ExamBoardServiceClient Board(string? token, IGrpcEndpoint? via = null) => new(Invoker(token, via));

    /// <summary>Platform operations' erasure requests (an ops token).</summary>
    public ErasureService.ErasureServiceClient Erasure(string? token, IGrpcEndpoint? via = null) => new(Invoker(token, via));

    /// <summary>The learner's dashboard.</summary>
    public DashboardService.DashboardServiceClient Dashboard(string? token) => new(Invoker(token));

    /// <summary>The public certificate verification (no token needed).</summary>
    public CertificateVerificationService.CertificateVerificationServiceClient Verification(string? token = null) => new(Invoker(token));

    /// <summary>An exam builder for a course, open now by <see cref="Clock"/>.</summary>
    public ExamBuilder NewExam(string courseId) => new(courseId, Clock.GetUtcNow());

    /// <summary>The <see cref="ExamBuilder.Standard"/> exam of a course (a new course when null), changed by <paramref name="change"/>, created by the course's staff.</summary>
    public Task<Exam> StandardExamAsync(string? courseId = null, Action<Exam>? change = null)
    {
        var exam = ExamBuilder.Standard(courseId ?? Id("course"), Clock.GetUtcNow());
        change?.Invoke(exam);
        return CreateExamAsync(exam);
    }

    /// <summary>
    /// Creates <paramref name="definition"/> as a staff member of its course (ExamService/CreateExam); returns the
    /// stored exam. Retried with the same request id while the answer is Unavailable, as a client does.
    /// </summary>
    public async Task<Exam> CreateExamAsync(Exam definition, IGrpcEndpoint? via = null)
    {
        var exams = Exams(await Tokens(new TokenSpec(Id("staff")) { StaffCourses = [definition.CourseId] }), via);
        var request = new CreateExamRequest { RequestId = RequestId(), Exam = definition };
        return (await Eventually.SucceedsAsync(async () => await exams.CreateExamAsync(request), $"exam creation for {definition.CourseId}")).Exam;
    }

    /// <summary>
    /// A learner with a token who registered an alias-free address (IdentityService/RegisterLearner) under
    /// <paramref name="name"/>; the token carries <paramref name="tokenName"/> when given (an identity provider's own
    /// spelling of the name), else the same name; the learner is <paramref name="learnerId"/> when given (a user of
    /// the provider), else a new one.
    /// </summary>
    public async Task<TestLearner> RegisteredLearnerAsync(string? name = null, string? tokenName = null, string? learnerId = null)
    {
        var id = learnerId ?? Id("learner");
        var learner = new TestLearner(id, name ?? "Ada " + id[^4..], await Tokens(new TokenSpec(id) { Roles = [VigilRoles.Learner], Name = tokenName ?? name }), this);
        await Identity(learner.Token).RegisterLearnerAsync(new RegisterLearnerRequest
        {
            RequestId = RequestId(), Email = $"{id}@example.org", DisplayName = learner.Name,
        });
        return learner;
    }

    /// <summary>The checks before the photos: system check, then microphone test.</summary>
    public async Task CompleteChecksAsync(TestLearner learner, string examId)
    {
        foreach (var step in new[] { VerificationStep.SystemCheck, VerificationStep.MicrophoneTest })
        {
            await Identity(learner.Token).CompleteVerificationStepAsync(new CompleteVerificationStepRequest
            {
                RequestId = RequestId(), ExamId = examId, Step = step, Passed = true, Details = "test " + step,
            });
        }
    }

    /// <summary>The ID-document photo, then the face photo (the test photos); a refusal fails the test.</summary>
    public async Task UploadPhotosAsync(TestLearner learner, string examId, int seed = 0)
    {
        var identity = Identity(learner.Token);
        foreach (var (kind, photo) in new[] { (PhotoKind.IdDocument, TestImages.IdDocumentJpeg(seed)), (PhotoKind.Face, TestImages.FaceJpeg(seed)) })
        {
            var reply = await TestVerification.UploadAsync(identity, examId, kind, photo);
            if (reply.Verdict != PhotoVerdict.Accepted)
            {
                throw new InvalidOperationException($"The {kind} photo was refused: {reply.Message} {string.Join("; ", reply.Problems.Select(p => p.Message))}");
            }
        }
    }

    /// <summary>The whole verification phase for an exam: checks, then accepted ID-document and face photos.</summary>
    public Task<VerificationStatus> VerifyAsync(TestLearner learner, string examId, int seed = 0) =>
        TestVerification.CompleteAsync(Identity(learner.Token), examId, seed: seed);

    /// <summary>A registered learner whose verification for <paramref name="examId"/> is complete.</summary>
    public async Task<TestLearner> VerifiedLearnerAsync(string examId, int seed = 0)
    {
        var learner = await RegisteredLearnerAsync();
        await VerifyAsync(learner, examId, seed);
        return learner;
    }

    /// <summary>A registered, verified learner with a started session of <paramref name="exam"/>.</summary>
    public async Task<StartedLearner> StartedAsync(Exam exam, int seed = 0, IGrpcEndpoint? via = null)
    {
        var learner = await VerifiedLearnerAsync(exam.ExamId, seed);
        var session = await learner.StartAsync(exam.ExamId, via);
        return new StartedLearner(learner, exam, session.SessionId);
    }

    /// <summary>Several learners of one new <see cref="ExamBuilder.Numbered"/> exam, started side by side.</summary>
    public async Task<List<StartedLearner>> StartedAsync(int learners, int questions)
    {
        var exam = await CreateExamAsync(ExamBuilder.Numbered(Id("course"), questions, Clock.GetUtcNow()));
        return [.. await Task.WhenAll(Enumerable.Range(0, learners).Select(i => StartedAsync(exam, seed: i)))];
    }

    /// <summary>Saves the answers on one stream (a heartbeat before each), each acknowledged; returns the last acknowledged sequence.</summary>
    public async Task<long> SaveAnswersAsync(TestLearner learner, string sessionId, params (string QuestionId, Answer Answer)[] answers)
    {
        await using var stream = await learner.OpenStreamAsync(sessionId);
        var sequence = stream.Opened.LastAckedSequence;
        foreach (var (question, answer) in answers)
        {
            await stream.SendHeartbeatAsync();
            await stream.SaveAsync(++sequence, question, answer);
        }
        return sequence;
    }

    /// <summary>The final check with the last acknowledged sequence; returns the receipt.</summary>
    public async Task<Receipt> SubmitAsync(TestLearner learner, string sessionId, long lastSaveSequence, string? requestId = null, IGrpcEndpoint? via = null) =>
        (await learner.Sessions(via).SubmitFinalCheckAsync(new SubmitFinalCheckRequest
        {
            RequestId = requestId ?? RequestId(), SessionId = sessionId, LastSaveSequence = lastSaveSequence,
        })).Receipt;

    /// <summary>Saves every answer of a <see cref="ExamBuilder.Numbered"/> exam right and submits the final check; returns the receipt.</summary>
    public async Task<Receipt> AnswerAndSubmitAsync(StartedLearner started, string? requestId = null)
    {
        var answers = started.Exam.Questions.Select(q => (q.QuestionId, ExamBuilder.NumberedAnswer(q.QuestionId))).ToArray();
        var last = await SaveAnswersAsync(started.Learner, started.SessionId, answers);
        return await SubmitAsync(started.Learner, started.SessionId, last, requestId);
    }

    /// <summary>
    /// A verified learner's submitted session of a new <see cref="ExamBuilder.Standard"/> exam of the course, every
    /// answer right (q1 "b", q2 "Paris", q3 42); the learner registered as <paramref name="learnerName"/>, their token
    /// says <paramref name="tokenName"/> when given; the learner is <paramref name="learnerId"/> when given.
    /// </summary>
    public async Task<SubmittedSession> SubmittedSessionAsync(string courseId, string? learnerName = null, string? tokenName = null, string? learnerId = null)
    {
        var exam = await StandardExamAsync(courseId);
        var learner = await RegisteredLearnerAsync(learnerName, tokenName, learnerId);
        await VerifyAsync(learner, exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        var last = await SaveAnswersAsync(learner, session.SessionId,
            ("q1", TestAnswers.Choice("b")), ("q2", TestAnswers.Text("Paris")), ("q3", TestAnswers.Number(42)));
        var receipt = await SubmitAsync(learner, session.SessionId, last);
        return new SubmittedSession(new StartedLearner(learner, exam, session.SessionId), receipt);
    }

    /// <summary>
    /// A board member of the session's course records a decision (RecordDecision), retried with the same request id
    /// while the session is not reviewable yet or the service is coming back.
    /// </summary>
    public async Task<BoardDecision> DecideAsync(StartedLearner started, DecisionOutcome outcome = DecisionOutcome.Valid, TimeSpan? timeout = null)
    {
        var board = Board(await Tokens(new TokenSpec(Id("board")) { BoardCourses = [started.CourseId] }));
        var request = new RecordDecisionRequest { RequestId = RequestId(), SessionId = started.SessionId, Outcome = outcome };
        return await Eventually.SucceedsAsync(async () => (await board.RecordDecisionAsync(request)).Decision,
            $"a {outcome} decision on {started.SessionId}", timeout,
            retryOn: ex => ex is RpcException { StatusCode: StatusCode.FailedPrecondition or StatusCode.Unavailable });
    }

    /// <summary>Waits until the board of the course lists the session for review (every page of the list read).</summary>
    public Task AwaitReviewableAsync(string boardToken, string courseId, string sessionId) =>
        Eventually.Async(async () =>
        {
            var request = new ListSessionsForReviewRequest { CourseId = courseId, PageSize = 500 };
            do
            {
                var page = await Board(boardToken).ListSessionsForReviewAsync(request);
                if (page.Sessions.Any(s => s.Session.SessionId == sessionId)) return true;
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);
            return false;
        }, $"session {sessionId} in the review list of {courseId}", interval: TimeSpan.FromMilliseconds(200));

    /// <summary>The learner's dashboard entry of a session, or null.</summary>
    public async Task<DashboardEntry?> EntryAsync(string token, string sessionId)
    {
        var dashboard = await Dashboard(token).GetDashboardAsync(new GetDashboardRequest());
        return dashboard.Entries.FirstOrDefault(e => e.SessionId == sessionId);
    }

    /// <summary>Waits until the learner's dashboard shows an entry of the session that matches; returns it.</summary>
    public async Task<DashboardEntry> AwaitEntryAsync(string token, string sessionId, Func<DashboardEntry, bool> match, TimeSpan? timeout = null)
    {
        DashboardEntry? last = null;
        return await Eventually.ObjectAsync(async () =>
        {
            last = await EntryAsync(token, sessionId);
            return last is not null && match(last) ? last : null;
        }, () => $"the dashboard entry of {sessionId} to match; last seen: {last?.ToString() ?? "none"}", timeout, TimeSpan.FromMilliseconds(200));
    }

    /// <summary>Waits until every learner's dashboard entry matches, at most <paramref name="timeout"/>; returns how many matched (all, or fewer at the timeout).</summary>
    public async Task<int> CountEntriesAsync(IReadOnlyList<StartedLearner> learners, Func<DashboardEntry, bool> match, TimeSpan timeout)
    {
        var matched = 0;
        try
        {
            await Eventually.Async(async () =>
            {
                matched = 0;
                foreach (var l in learners)
                {
                    if (await EntryAsync(l.Token, l.SessionId) is { } e && match(e)) matched++;
                }
                return matched == learners.Count;
            }, "every dashboard entry to match", timeout, TimeSpan.FromMilliseconds(300));
        }
        catch (TimeoutException)
        {
            // The caller compares the count with what it expected, and prints it.
        }
        return matched;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var channel in _channels.Values.Where(c => c.IsValueCreated && c.Value != _shared)) channel.Value.Dispose();
        _channels.Clear();
    }

    private sealed class SharedEndpoint(GrpcChannel channel) : IGrpcEndpoint
    {
        public GrpcChannel Channel(string? token) =>
            token is null ? channel : throw new InvalidOperationException("A shared channel carries each caller's token per call.");
    }
}

/// <summary>A learner of a journey: id, display name and token, with the calls a learner makes.</summary>
public sealed record TestLearner(string Id, string Name, string Token, Journey Journey)
{
    /// <summary>The session service as this learner, through the front or straight to a replica.</summary>
    public SessionService.SessionServiceClient Sessions(IGrpcEndpoint? via = null) => Journey.Sessions(Token, via);

    /// <summary>The identity service as this learner.</summary>
    public IdentityService.IdentityServiceClient Identity() => Journey.Identity(Token);

    /// <summary>The learner's dashboard.</summary>
    public DashboardService.DashboardServiceClient Dashboard() => Journey.Dashboard(Token);

    /// <summary>Starts a session of the exam (SessionService/StartSession); an error other than Unavailable fails at once.</summary>
    public async Task<Contracts.Session.V1.Session> StartAsync(string examId, IGrpcEndpoint? via = null)
    {
        var sessions = Sessions(via);
        var request = new StartSessionRequest { RequestId = Journey.RequestId(), ExamId = examId };
        return (await Eventually.SucceedsAsync(async () => await sessions.StartSessionAsync(request), $"a session of {examId} to start")).Session;
    }

    /// <summary>Opens the exam stream of a session.</summary>
    public Task<ExamStreamClient> OpenStreamAsync(string sessionId, long lastAcked = 0, IGrpcEndpoint? via = null) =>
        ExamStreamClient.OpenAsync(Sessions(via), sessionId, lastAcked);

    /// <summary>Reports a technical problem with one of the learner's sessions (SessionService/ReportProblem); returns the recorded report.</summary>
    public async Task<ProblemReport> ReportProblemAsync(string sessionId, string description, string? requestId = null, IGrpcEndpoint? via = null) =>
        (await Sessions(via).ReportProblemAsync(new ReportProblemRequest
        {
            RequestId = requestId ?? Journey.RequestId(), SessionId = sessionId, Description = description,
        })).Report;
}

/// <summary>A learner with a started session of an exam.</summary>
public sealed record StartedLearner(TestLearner Learner, Exam Exam, string SessionId)
{
    /// <summary>The learner's id.</summary>
    public string Id => Learner.Id;

    /// <summary>The learner's token.</summary>
    public string Token => Learner.Token;

    /// <summary>The exam's course.</summary>
    public string CourseId => Exam.CourseId;
}

/// <summary>A session whose final check went through, with its receipt.</summary>
public sealed record SubmittedSession(StartedLearner Started, Receipt Receipt)
{
    /// <summary>The learner.</summary>
    public TestLearner Learner => Started.Learner;

    /// <summary>The learner's token.</summary>
    public string Token => Started.Token;

    /// <summary>The session.</summary>
    public string SessionId => Started.SessionId;

    /// <summary>The exam.</summary>
    public Exam Exam => Started.Exam;
}
