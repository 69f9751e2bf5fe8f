using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Cli.Cli;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary>The calls of the learner's and the board's journey, shared by the subcommands and the demo.</summary>
internal sealed class Journey(GatewayConnection connection, Output output)
{
    private readonly IdentityService.IdentityServiceClient _identity = new(connection.Invoker);
    private readonly SessionService.SessionServiceClient _sessions = new(connection.Invoker);
    private readonly ExamService.ExamServiceClient _exams = new(connection.Invoker);
    private readonly ExamBoardService.ExamBoardServiceClient _board = new(connection.Invoker);
    private readonly CourseResultsService.CourseResultsServiceClient _results = new(connection.Invoker);
    private readonly DashboardService.DashboardServiceClient _dashboard = new(connection.Invoker);
    private readonly CertificateVerificationService.CertificateVerificationServiceClient _verification = new(connection.Invoker);

    public Output Output => output;

    public static string NewRequestId() => Guid.NewGuid().ToString("N");

    public async Task<CheckEmailResponse> CheckEmailAsync(string? token, string email)
    {
        var response = await _identity.CheckEmailAsync(new CheckEmailRequest { Email = email }, GatewayConnection.With(token));
        if (response.Verdict == EmailVerdict.Accepted) output.Ok($"{email} is accepted (compared as {response.CanonicalEmail})");
        else output.No($"{email} is refused ({Name(response.Reason)}): {response.Message}" +
                       (response.SuggestedEmail.Length > 0 ? $" Use {response.SuggestedEmail}." : string.Empty));
        return response;
    }

    public async Task<Learner> RegisterAsync(string token, string email, string name)
    {
        var response = await _identity.RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = NewRequestId(), Email = email, DisplayName = name }, GatewayConnection.With(token));
        output.Ok($"registered {response.Learner.DisplayName} <{response.Learner.Email}> as {response.Learner.LearnerId}");
        return response.Learner;
    }

    public async Task<VerificationStatus> CompleteStepAsync(string token, string examId, VerificationStep step, string details)
    {
        var response = await _identity.CompleteVerificationStepAsync(new CompleteVerificationStepRequest
        {
            RequestId = NewRequestId(), ExamId = examId, Step = step, Passed = true, Details = details,
        }, GatewayConnection.With(token));
        output.Ok($"{Name(step)} done ({details})");
        return response.Status;
    }

    public async Task<UploadPhotoResponse> UploadPhotoAsync(string token, string examId, PhotoKind kind, byte[] bytes, string label)
    {
        using var call = _identity.UploadPhoto(GatewayConnection.With(token));
        await call.RequestStream.WriteAsync(new UploadPhotoRequest
        {
            Metadata = new PhotoMetadata { RequestId = NewRequestId(), ExamId = examId, Kind = kind, DeclaredSize = bytes.Length },
        });
        const int chunk = 256 * 1024;
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(bytes, offset, Math.Min(chunk, bytes.Length - offset)) });
        }
        await call.RequestStream.CompleteAsync();
        var response = await call;
        if (response.Verdict == PhotoVerdict.Accepted) output.Ok($"{label} accepted ({bytes.Length / 1024} KiB)");
        else
        {
            output.No($"{label} rejected: {response.Message}");
            foreach (var p in response.Problems) output.Line($"      - {Name(p.Code)}: {p.Message}");
        }
        return response;
    }

    public async Task<VerificationStatus> StatusAsync(string token, string examId)
    {
        var status = (await _identity.GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = examId }, GatewayConnection.With(token))).Status;
        foreach (var s in status.Steps)
        {
            var mark = s.State == StepState.Done ? "✔" : s.State == StepState.Reopened ? "↺" : "·";
            output.Line($"    {mark} {Name(s.Step)}{(s.Note.Length > 0 ? " — " + s.Note : string.Empty)}");
        }
        output.Line(status.MayStartExam ? "    → you may start the exam" : $"    → next: {Name(status.NextStep)}. {status.Instructions}");
        return status;
    }

    public async Task<Exam> CreateExamAsync(string token, Exam exam)
    {
        var created = (await _exams.CreateExamAsync(new CreateExamRequest { RequestId = NewRequestId(), Exam = exam }, GatewayConnection.With(token))).Exam;
        output.Ok($"exam \"{created.Title}\" created: {created.ExamId} (course {created.CourseId}, {created.Questions.Count} questions, pass mark {created.PassMark}, {created.MaxAttempts} attempt(s) per learner{(created.Kind == ExamKind.Practice ? ", practice: never certified" : string.Empty)})");
        return created;
    }

    /// <summary>Sets a learner's allowance on an exam (a new request id).</summary>
    public async Task<Allowance> GrantAllowanceAsync(string token, GrantAllowanceRequest request)
    {
        request.RequestId = NewRequestId();
        var a = (await _exams.GrantAllowanceAsync(request, GatewayConnection.With(token))).Allowance;
        output.Ok($"allowance for {a.LearnerId} on {request.ExamId}: time x{a.TimeMultiplier}, grace {a.GracePeriod.ToTimeSpan().TotalMinutes} min, headphones {(a.AllowedRules.HeadphonesAllowed ? "allowed" : "as the exam says")} (granted by {a.GrantedBy})");
        return a;
    }

    /// <summary>Resets a learner's finished attempt at an exam (a new request id).</summary>
    public async Task<ResetAttemptResponse> ResetAttemptAsync(string token, string examId, string learnerId, string reason)
    {
        var r = await _exams.ResetAttemptAsync(new ResetAttemptRequest { RequestId = NewRequestId(), ExamId = examId, LearnerId = learnerId, Reason = reason }, GatewayConnection.With(token));
        output.Ok($"attempt {r.SessionId} of {learnerId} reset by {r.ResetBy}: a new attempt may start");
        return r;
    }

    public async Task ConfigureVerificationAsync(string token, Exam exam)
    {
        var response = await _identity.ConfigureExamVerificationAsync(new ConfigureExamVerificationRequest
        {
            RequestId = NewRequestId(), ExamId = exam.ExamId, CourseId = exam.CourseId, RoomScanRequired = exam.RoomScanRequired,
        }, GatewayConnection.With(token));
        output.Ok("verification steps: " + string.Join(" → ", response.Steps.Select(s => Name(s))));
    }

    public async Task<StartSessionResponse> StartAsync(string token, string examId)
    {
        var response = await _sessions.StartSessionAsync(new StartSessionRequest { RequestId = NewRequestId(), ExamId = examId }, GatewayConnection.With(token));
        output.Ok($"session {response.Session.SessionId} started: \"{response.ExamTitle}\", {response.Questions.Count} questions, deadline {response.Session.Deadline?.ToDateTime():u}");
        return response;
    }

    /// <summary>
    /// Opens the exam stream, sends a heartbeat, then each answer as a save with a heartbeat between saves (and
    /// <paramref name="pace"/> before each save after the first, as a learner answers over time), and waits for every
    /// save's acknowledgement; a save the server answers with RetryLater (its store failed for that one message, the
    /// stream stays open) is sent again, in order, after the hint. Returns the highest acknowledged sequence.
    /// </summary>
    /// <exception cref="StreamMovedException">The server asked the client to reconnect (it drains) before every save was
    /// acknowledged: open a new stream, which resumes after the last acknowledged save.</exception>
    /// <exception cref="RpcException">The stream failed (UNAVAILABLE when the server or the connection went away).</exception>
    public async Task<long> RunAsync(string token, string sessionId, IReadOnlyList<(string QuestionId, Answer Answer)> answers, long firstSequence = 1,
        StreamProgress? progress = null, TimeSpan pace = default, CancellationToken cancellationToken = default)
    {
        using var call = _sessions.StreamExam(GatewayConnection.With(token, cancellationToken));
        await call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = sessionId } }, cancellationToken);
        if (!await call.ResponseStream.MoveNext(cancellationToken) || call.ResponseStream.Current.MessageCase != StreamExamResponse.MessageOneofCase.Opened)
        {
            // A replica that has begun to drain may still get the open: it answers Reconnect, and the client tries again.
            if (call.ResponseStream.Current?.Reconnect is { } moved) throw new StreamMovedException(moved.Reason, moved.RetryAfter?.ToTimeSpan() ?? TimeSpan.Zero);
            throw new InvalidOperationException("The exam stream did not open.");
        }
        var opened = call.ResponseStream.Current.Opened;
        output.Ok($"exam stream open (state {Name(opened.State)}, last acknowledged save {opened.LastAckedSequence})");
        var lastAcked = opened.LastAckedSequence;
        var pending = new HashSet<long>();
        var sent = new Dictionary<long, AnswerSave>();
        var resend = new SortedSet<long>();
        var resendAfter = TimeSpan.Zero;
        Reconnect? reconnect = null;
        long heartbeat = 0;
        var sequence = progress?.FirstSequence ?? Math.Max(firstSequence, lastAcked + 1);
        // A reopened stream: the answers the server has acknowledged (sequences up to its last) are not sent again.
        var skip = (int)Math.Clamp(lastAcked + 1 - sequence, 0, answers.Count);
        if (progress is not null) progress.FirstSequence ??= sequence;
        sequence += skip;
        var reader = Task.Run(async () =>
        {
            var acks = new List<StreamExamResponse>();
            while (await call.ResponseStream.MoveNext(cancellationToken))
            {
                var m = call.ResponseStream.Current;
                switch (m.MessageCase)
                {
                    case StreamExamResponse.MessageOneofCase.SaveAck:
                        lock (pending)
                        {
                            pending.Remove(m.SaveAck.Sequence);
                            lastAcked = Math.Max(lastAcked, m.SaveAck.Sequence);
                        }
                        output.Ok($"save {m.SaveAck.Sequence} ({m.SaveAck.QuestionId}) is durable: {Name(m.SaveAck.Outcome)}");
                        break;
                    case StreamExamResponse.MessageOneofCase.SaveRejected:
                        lock (pending) pending.Remove(m.SaveRejected.Sequence);
                        output.No($"save {m.SaveRejected.Sequence} ({m.SaveRejected.QuestionId}) refused: {m.SaveRejected.Message}");
                        break;
                    case StreamExamResponse.MessageOneofCase.HeartbeatReply:
                        output.Line($"    ♥ heartbeat {m.HeartbeatReply.Sequence}: {m.HeartbeatReply.TimeLeft?.ToTimeSpan():hh\\:mm\\:ss} left");
                        break;
                    case StreamExamResponse.MessageOneofCase.Warning:
                        output.Line($"    ⚠ {m.Warning.Message}");
                        break;
                    case StreamExamResponse.MessageOneofCase.Reconnect:
                        output.Line($"    ↻ the server asks to reconnect: {m.Reconnect.Reason}");
                        reconnect = m.Reconnect;
                        break;
                    case StreamExamResponse.MessageOneofCase.Retry when m.Retry.Target == RetryTarget.Save:
                        lock (pending)
                        {
                            resend.Add(m.Retry.Sequence);
                            resendAfter = m.Retry.RetryAfter?.ToTimeSpan() ?? TimeSpan.FromMilliseconds(500);
                        }
                        output.Line($"    ↻ save {m.Retry.Sequence} not stored yet, sent again shortly: {m.Retry.Reason}");
                        break;
                }
                acks.Add(m);
            }
            return acks;
        }, cancellationToken);

        // The stream ended under the run (a drain's Reconnect, the server or the connection gone): what the caller does next.
        async Task EndedAsync()
        {
            await reader; // an RpcException (UNAVAILABLE...) surfaces here as it is
            if (reconnect is not null) throw new StreamMovedException(reconnect.Reason, reconnect.RetryAfter?.ToTimeSpan() ?? TimeSpan.Zero);
            throw new InvalidOperationException("The server ended the exam stream before every save was acknowledged, without asking to reconnect.");
        }

        // A write to a stream the server has ended fails: how the stream ended (read by the reader) says what to do.
        async Task SendAsync(StreamExamRequest message)
        {
            try
            {
                await call.RequestStream.WriteAsync(message, cancellationToken);
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                await Task.WhenAny(reader, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
                if (!reader.IsCompleted) throw;
                await EndedAsync();
            }
        }

        bool HasPending()
        {
            lock (pending) return pending.Count > 0;
        }

        async Task Beat() => await SendAsync(new StreamExamRequest
        {
            Heartbeat = new Heartbeat
            {
                Sequence = ++heartbeat, CameraOn = true, MicrophoneOn = true, ScreenShareOn = true, Focused = true,
                AudioOutput = AudioOutput.Speakers, ClientTime = Timestamp.FromDateTime(DateTime.UtcNow),
            },
        });

        await Beat();
        var first = true;
        foreach (var (questionId, answer) in answers.Skip(skip))
        {
            if (!first && pace > TimeSpan.Zero) await Task.WhenAny(Task.Delay(pace, cancellationToken), reader);
            first = false;
            // The server ends a stream only when it drains or fails: the run goes on on a new stream.
            if (reader.IsCompleted) await EndedAsync();
            var seq = sequence++;
            var save = new AnswerSave { Sequence = seq, QuestionId = questionId, Answer = answer };
            lock (pending)
            {
                pending.Add(seq);
                sent[seq] = save;
            }
            await SendAsync(new StreamExamRequest { Save = save });
            await Beat();
        }
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until && HasPending())
        {
            if (reader.IsCompleted) await EndedAsync();
            List<AnswerSave> again;
            TimeSpan wait;
            lock (pending)
            {
                again = [.. resend.Select(s => sent[s])];
                resend.Clear();
                wait = resendAfter;
            }
            if (again.Count == 0)
            {
                await Task.WhenAny(Task.Delay(50, cancellationToken), reader);
                continue;
            }
            // With jitter, so that a crowd told to retry together does not come back together.
            await Task.Delay(wait + wait * (Random.Shared.NextDouble() * 0.5), cancellationToken);
            foreach (var save in again) await SendAsync(new StreamExamRequest { Save = save });
        }
        if (!reader.IsCompleted)
        {
            await call.RequestStream.CompleteAsync();
            try
            {
                await reader.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
            catch (TimeoutException)
            {
                // The server keeps the stream open until it sees the end; not waiting longer is fine.
            }
            catch (RpcException) when (!HasPending())
            {
                // Every save is acknowledged: how the stream closed after that changes nothing.
            }
        }
        lock (pending)
        {
            if (pending.Count > 0) throw new InvalidOperationException($"Saves not acknowledged: {string.Join(", ", pending)}.");
        }
        return lastAcked;
    }

    public async Task<Receipt> FinalCheckAsync(string token, string sessionId, long lastSequence)
    {
        var receipt = (await _sessions.SubmitFinalCheckAsync(new SubmitFinalCheckRequest
        {
            RequestId = NewRequestId(), SessionId = sessionId, LastSaveSequence = lastSequence,
        }, GatewayConnection.With(token))).Receipt;
        output.Ok("final check done: your answers are submitted");
        PrintReceipt(receipt);
        return receipt;
    }

    public async Task<Receipt> ReceiptAsync(string token, string sessionId)
    {
        var receipt = (await _sessions.GetReceiptAsync(new GetReceiptRequest { SessionId = sessionId }, GatewayConnection.With(token))).Receipt;
        PrintReceipt(receipt);
        return receipt;
    }

    public void PrintReceipt(Receipt receipt)
    {
        output.Line($"    Receipt for session {receipt.SessionId} ({Name(receipt.State)}, {receipt.SubmittedAt?.ToDateTime():u})");
        foreach (var item in receipt.Items)
        {
            output.Line(item.Ticked
                ? $"      ✔ {item.QuestionId}  answer recorded (save {item.Sequence}, sha256 {Short(item.AnswerDigest)})"
                : $"      ✘ {item.QuestionId}  no answer recorded");
        }
        output.Line($"    Keep this digest: {receipt.ReceiptDigest}");
    }

    /// <summary>One page of the course's review list (every page with <paramref name="allPages"/>), with the token of the next.</summary>
    public async Task<ListSessionsForReviewResponse> BoardListAsync(string token, string courseId, ReviewFilter filter, int pageSize, string? pageToken, bool allPages)
    {
        var result = new ListSessionsForReviewResponse();
        var request = new ListSessionsForReviewRequest { CourseId = courseId, Filter = filter, PageSize = pageSize, PageToken = pageToken ?? string.Empty };
        do
        {
            var page = await _board.ListSessionsForReviewAsync(request, GatewayConnection.With(token));
            result.Sessions.AddRange(page.Sessions);
            result.NextPageToken = page.NextPageToken;
            request.PageToken = page.NextPageToken;
        }
        while (allPages && request.PageToken.Length > 0);
        output.Line($"    {result.Sessions.Count} session(s) for course {courseId} ({Name(filter)}):");
        foreach (var s in result.Sessions)
        {
            var decision = s.LatestDecision is null ? "awaiting decision" : $"{Name(s.LatestDecision.Outcome)} (v{s.LatestDecision.Version})";
            output.Line($"      {s.Session.SessionId}  {s.ExamTitle}  learner {s.Session.LearnerId}{Attempt(s.Session)}  {Name(s.Session.State)}  score {s.Score}/{s.MaxScore}  incidents {s.IncidentCount}  {decision}");
        }
        if (result.NextPageToken.Length > 0) output.Line($"    more: --page-token {result.NextPageToken}");
        return result;
    }

    /// <summary>A course's audit trail: one page, or every page with <paramref name="allPages"/>.</summary>
    public async Task<ListAuditEntriesResponse> AuditListAsync(string token, ListAuditEntriesRequest request, bool allPages, CancellationToken cancellationToken = default)
    {
        var result = new ListAuditEntriesResponse();
        do
        {
            var page = await _board.ListAuditEntriesAsync(request, GatewayConnection.With(token, cancellationToken));
            result.Entries.AddRange(page.Entries);
            result.NextPageToken = page.NextPageToken;
            request.PageToken = page.NextPageToken;
        }
        while (allPages && request.PageToken.Length > 0);
        output.Line($"    {result.Entries.Count} audit entr{(result.Entries.Count == 1 ? "y" : "ies")} for course {request.CourseId}:");
        foreach (var e in result.Entries)
        {
            var target = string.Join(' ', new[] { ("exam", e.ExamId), ("session", e.SessionId), ("learner", e.LearnerId) }
                .Where(x => x.Item2.Length > 0).Select(x => $"{x.Item1} {x.Item2}"));
            output.Line($"      {e.At.ToDateTimeOffset():u}  {Name(e.Kind)}  by {e.Actor} ({Name(e.ActorRole)})  {target}  {e.Summary}");
        }
        if (result.NextPageToken.Length > 0) output.Line($"    more: --page-token {result.NextPageToken}");
        return result;
    }

    /// <summary>"  attempt N" (with "reset" when it was), or nothing for a session started before attempts were numbered.</summary>
    private static string Attempt(Contracts.Session.V1.Session s) =>
        s.Attempt == 0 ? string.Empty : $"  attempt {s.Attempt}{(s.ResetAt is null ? string.Empty : " (reset)")}";

    /// <summary>One page of the learner's own sessions, the latest start first.</summary>
    public async Task<ListMySessionsResponse> MySessionsAsync(string token, int pageSize, string? pageToken)
    {
        var response = await _sessions.ListMySessionsAsync(new ListMySessionsRequest { PageSize = pageSize, PageToken = pageToken ?? string.Empty }, GatewayConnection.With(token));
        output.Line($"    {response.Sessions.Count} session(s):");
        foreach (var s in response.Sessions)
        {
            output.Line($"      {s.Session.SessionId}  {s.ExamTitle}  exam {s.Session.ExamId}{Attempt(s.Session)}  {Name(s.Session.State)}  started {s.Session.StartedAt.ToDateTimeOffset():u}");
        }
        if (response.NextPageToken.Length > 0) output.Line($"    more: --page-token {response.NextPageToken}");
        return response;
    }

    public async Task<SessionRecord> BoardReviewAsync(string token, string sessionId)
    {
        var record = (await _board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = sessionId }, GatewayConnection.With(token))).Record;
        output.Line($"    Session {record.Session.SessionId}: \"{record.ExamTitle}\", learner {record.Session.LearnerId}, {Name(record.Session.State)}");
        output.Line($"    Score {record.Score}/{record.MaxScore} (pass mark {record.PassMark}); ID photo {(record.IdDocumentPhotoAccepted ? "✔" : "✘")}, face photo {(record.FacePhotoAccepted ? "✔" : "✘")}");
        foreach (var a in record.Answers)
        {
            output.Line($"      {a.QuestionId}: {(a.Answer is null ? "(no answer)" : a.Answer.ToString())}  {(a.AutoMarked ? $"{a.PointsAwarded} pts" : "marked by hand")}");
        }
        output.Line(record.Incidents.Count == 0 ? "    No incident." : $"    {record.Incidents.Count} incident(s):");
        foreach (var i in record.Incidents) output.Line($"      {i.StartedAt?.ToDateTime():HH:mm:ss} {Name(i.Kind)} {i.Details}");
        foreach (var d in record.Decisions) output.Line($"    decision v{d.Version}: {Name(d.Outcome)} {Name(d.Reason)} by {d.DecidedBy}");
        return record;
    }

    public async Task<BoardDecision> DecideAsync(string token, string sessionId, DecisionOutcome outcome, RefusalReason reason, string notes, long expectedVersion = 0)
    {
        var decision = (await _board.RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = NewRequestId(), SessionId = sessionId, Outcome = outcome, Reason = reason, Notes = notes, ExpectedVersion = expectedVersion,
        }, GatewayConnection.With(token))).Decision;
        output.Ok($"decision v{decision.Version} recorded: {Name(decision.Outcome)}{(decision.Reason != RefusalReason.Unspecified ? " (" + Name(decision.Reason) + ")" : string.Empty)}");
        return decision;
    }

    public async Task<SecondLook> SecondLookAsync(string token, string sessionId, string notes)
    {
        var look = (await _board.RequestSecondLookAsync(new RequestSecondLookRequest
        {
            RequestId = NewRequestId(), SessionId = sessionId, Notes = notes,
        }, GatewayConnection.With(token))).SecondLook;
        output.Ok($"second look asked on {sessionId} by {look.RequestedBy}: a decision by another board member closes it");
        return look;
    }

    public async Task<GetDecisionHistoryResponse> DecisionHistoryAsync(string token, string sessionId)
    {
        var history = await _board.GetDecisionHistoryAsync(new GetDecisionHistoryRequest { SessionId = sessionId }, GatewayConnection.With(token));
        output.Line($"    {history.Decisions.Count} decision(s), {history.SecondLooks.Count} second look(s) on {sessionId}:");
        foreach (var d in history.Decisions)
        {
            output.Line($"      v{d.Version}  {Name(d.Outcome)}{(d.Reason != RefusalReason.Unspecified ? " (" + Name(d.Reason) + ")" : string.Empty)}  by {d.DecidedBy}  {d.DecidedAt?.ToDateTimeOffset():u}  {d.Notes}");
        }
        foreach (var l in history.SecondLooks)
        {
            output.Line($"      second look by {l.RequestedBy}  {l.RequestedAt?.ToDateTimeOffset():u}  {l.Notes}  "
                + (l.ClosedAt is null ? "OPEN" : $"closed by {l.ClosedBy} with v{l.ClosedByVersion}"));
        }
        return history;
    }

    public async Task<ProblemReport> ReportProblemAsync(string token, string sessionId, string description)
    {
        var report = (await _sessions.ReportProblemAsync(new ReportProblemRequest
        {
            RequestId = NewRequestId(), SessionId = sessionId, Description = description,
        }, GatewayConnection.With(token))).Report;
        output.Ok($"problem report {report.ReportId} recorded on session {report.SessionId}{(report.AfterEnd ? " (after its end)" : string.Empty)}");
        return report;
    }

    public async Task<AcceptSavedAnswersResponse> AcceptSavedAsync(string token, string sessionId, string problemReportId, string reason, string reference)
    {
        var response = await _board.AcceptSavedAnswersAsync(new AcceptSavedAnswersRequest
        {
            RequestId = NewRequestId(), SessionId = sessionId, ProblemReportId = problemReportId, Reason = reason, FailureReference = reference,
        }, GatewayConnection.With(token));
        output.Ok($"saved answers of {sessionId} accepted by exception (answering problem report {response.Exception.ProblemReportId})");
        PrintReceipt(response.Receipt);
        return response;
    }

    /// <summary>
    /// Streams a course's results into <paramref name="csv"/> (header, then one line per row, as they arrive: one page in
    /// memory at a time) with a progress line on <paramref name="progress"/>; returns how many rows were written.
    /// </summary>
    public async Task<long> ExportResultsAsync(string token, string courseId, int pageSize, TextWriter csv, TextWriter? progress, CancellationToken cancellationToken = default)
    {
        using var call = _results.ExportResults(new ExportResultsRequest { RequestId = NewRequestId(), CourseId = courseId, PageSize = pageSize },
            GatewayConnection.With(token, cancellationToken));
        await csv.WriteAsync(ResultsCsv.Header + "\r\n");
        long rows = 0;
        await foreach (var page in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            foreach (var row in page.Rows)
            {
                await csv.WriteAsync(ResultsCsv.Line(row) + "\r\n");
                rows++;
            }
            progress?.Write($"\r    exported {rows} of ~{Math.Max(page.TotalEstimate, rows)} rows {Bar(rows, Math.Max(page.TotalEstimate, rows))}");
        }
        await csv.FlushAsync(cancellationToken);
        progress?.WriteLine();
        output.Ok($"{rows} row(s) of course {courseId} exported");
        return rows;
    }

    private static string Bar(long done, long total)
    {
        var filled = total == 0 ? 20 : (int)(20 * done / total);
        return "[" + new string('#', filled) + new string('.', 20 - filled) + "]";
    }

    public async Task<GetDashboardResponse> DashboardAsync(string token)
    {
        var response = await _dashboard.GetDashboardAsync(new GetDashboardRequest(), GatewayConnection.With(token));
        PrintDashboard(response.Entries);
        return response;
    }

    public void PrintDashboard(IEnumerable<DashboardEntry> entries)
    {
        var list = entries.ToList();
        if (list.Count == 0) output.Line("    No exam yet.");
        foreach (var e in list) PrintEntry(e);
    }

    public void PrintEntry(DashboardEntry e)
    {
        output.Line($"    {e.ExamTitle} [{e.CourseId}] — {Describe(e.Status)}{(e.Reason.Length > 0 ? ": " + e.Reason : string.Empty)}");
        if (e.Certificate is { VerificationCode.Length: > 0 } c)
        {
            output.Line($"      certificate {c.CertificateId} for {c.LearnerName}, verification code {c.VerificationCode}{(c.Status == CertificateStatus.Withdrawn ? " (WITHDRAWN)" : string.Empty)}");
        }
    }

    /// <summary>Watches the dashboard until <paramref name="until"/> holds for an entry (or forever when null).</summary>
    public async Task<DashboardEntry?> WatchAsync(string token, Func<DashboardEntry, bool>? until, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        using var call = _dashboard.WatchDashboard(new WatchDashboardRequest(), GatewayConnection.With(token, cts.Token));
        try
        {
            await foreach (var update in call.ResponseStream.ReadAllAsync(cts.Token))
            {
                output.Line(update.Snapshot ? "    (now)" : "    (change)");
                PrintEntry(update.Entry);
                output.Emit(update);
                if (until is not null && until(update.Entry)) return update.Entry;
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The dashboard did not show the expected change within {timeout.TotalSeconds:0} s.");
        }
        return null;
    }

    public async Task<VerifyCertificateResponse> VerifyCertificateAsync(string code)
    {
        var response = await _verification.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code }, GatewayConnection.With(null));
        switch (response.Result)
        {
            case VerificationResult.Valid:
                output.Ok($"certificate {code} is VALID: {response.Certificate.LearnerName}, \"{response.Certificate.ExamTitle}\" ({response.Certificate.CourseId}), issued {response.Certificate.IssuedAt?.ToDateTime():u}");
                break;
            case VerificationResult.Withdrawn:
                output.No($"certificate {code} was WITHDRAWN {response.WithdrawnAt?.ToDateTime():u}: {response.WithdrawalReason}");
                break;
            default:
                output.No($"no certificate has the code {code}");
                break;
        }
        return response;
    }

    public static string Describe(ResultStatus status) => status switch
    {
        ResultStatus.BeingChecked => "being checked by the exam board",
        ResultStatus.Certified => "CERTIFIED",
        ResultStatus.NotPassed => "not passed",
        ResultStatus.Refused => "certificate refused",
        ResultStatus.Withdrawn => "certificate WITHDRAWN",
        ResultStatus.NotSubmitted => "not submitted (answers never validated by the final check)",
        ResultStatus.InvalidNoIdPhoto => "invalid: no ID-document photo",
        _ => "unknown",
    };

    /// <summary>An enum value's proto name without its prefix, lower case: "ID_DOCUMENT_PHOTO" → "id document photo".</summary>
    public static string Name<T>(T value) where T : struct, System.Enum
    {
        var field = typeof(T).GetField(value.ToString());
        var original = field?.GetCustomAttributes(typeof(Google.Protobuf.Reflection.OriginalNameAttribute), false)
            .OfType<Google.Protobuf.Reflection.OriginalNameAttribute>().FirstOrDefault()?.Name ?? value.ToString();
        var prefix = string.Concat(typeof(T).Name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant() + "_";
        var name = original.StartsWith(prefix, StringComparison.Ordinal) ? original[prefix.Length..] : original;
        return name.Replace('_', ' ').ToLowerInvariant();
    }

    private static string Short(string digest) => digest.Length > 12 ? digest[..12] + "…" : digest;
}

/// <summary>The server asked to reconnect (a replica that drains) before every save of the run was acknowledged.</summary>
internal sealed class StreamMovedException(string reason, TimeSpan retryAfter) : Exception(reason)
{
    /// <summary>How long the server asked the client to wait before it reconnects.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>What an exam run keeps across reopened streams: the sequence its first answer was sent with.</summary>
internal sealed class StreamProgress
{
    public long? FirstSequence { get; set; }
}
