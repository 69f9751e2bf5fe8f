using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;

namespace Vigil.Session.Storage;

/// <summary>A session as read from its hash (the store parses it; nothing above the store sees the hash).</summary>
internal sealed class SessionData
{
    public required string SessionId { get; init; }
    public required string ExamId { get; init; }
    public required string CourseId { get; init; }
    public required string LearnerId { get; init; }
    public required string LearnerName { get; init; }
    /// <summary>The learner's registered email at the start (empty for sessions started before it was kept).</summary>
    public required string LearnerEmail { get; init; }
    public required SessionState State { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset Deadline { get; init; }
    public required long LastAcked { get; init; }
    /// <summary>Bumped by every stored save: a receipt computed at this revision is still exact.</summary>
    public required long Rev { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The exam as it was when the session started; shared with the other sessions of the same snapshot
    /// (<see cref="ExamSnapshots"/>): read it, clone it before changing it.</summary>
    public required Exam Exam { get; init; }
    public required bool IdDocumentPhotoAccepted { get; init; }
    public required bool FacePhotoAccepted { get; init; }
    /// <summary>The ID-document photo pinned at the start (null for sessions started before photos were pinned).</summary>
    public PinnedEvidence? IdDocumentPhoto { get; init; }
    /// <summary>The face photo pinned at the start.</summary>
    public PinnedEvidence? FacePhoto { get; init; }
    public required string StartRequest { get; init; }
    public required string FinishRequest { get; init; }
    public double Score { get; init; }
    public double MaxScore { get; init; }
    public Receipt? Receipt { get; init; }
    public SubmissionException? Exception { get; init; }
    public long DecisionVersion { get; init; }
    /// <summary>How many technical problems the learner reported (ReportProblem).</summary>
    public long ProblemReports { get; init; }
    /// <summary>Who asked for the open second look; null when none is open.</summary>
    public string? SecondLookBy { get; init; }
    public DateTimeOffset? LastHeartbeat { get; init; }
    /// <summary>When the staff reset this attempt (ResetAttempt), who and why; null when it was not reset.</summary>
    public DateTimeOffset? ResetAt { get; init; }
    public string ResetBy { get; init; } = string.Empty;
    public string ResetReason { get; init; } = string.Empty;
    /// <summary>Which attempt of the learner at the exam (1 for the first; 0: started before attempts were numbered).</summary>
    public int Attempt { get; init; }

    /// <summary>Whether the session is finished (a finished state never goes back).</summary>
    public bool IsFinished => State != SessionState.InProgress;

    /// <summary>Reads a session from its hash entries; null when it does not exist.</summary>
    public static SessionData? From(string sessionId, HashEntry[] entries)
    {
        if (entries.Length == 0) return null;
        var h = entries.ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!h.TryGetValue("exam_id", out var examId)) return null;
        RedisValue Get(string name) => h.TryGetValue(name, out var v) ? v : RedisValue.Null;
        static DateTimeOffset Ms(RedisValue v) => DateTimeOffset.FromUnixTimeMilliseconds((long)v);
        static DateTimeOffset? OptMs(RedisValue v) => v.IsNullOrEmpty ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)v);
        return new SessionData
        {
            SessionId = sessionId,
            ExamId = examId!,
            CourseId = Get("course_id")!,
            LearnerId = Get("learner_id")!,
            LearnerName = Get("learner_name").ToString(),
            LearnerEmail = Get("learner_email").ToString(),
            State = (SessionState)(int)Get("state"),
            StartedAt = Ms(Get("started_at")),
            Deadline = Ms(Get("deadline")),
            LastAcked = (long)Get("last_acked"),
            Rev = Get("rev").IsNullOrEmpty ? 0 : (long)Get("rev"),
            SubmittedAt = OptMs(Get("submitted_at")),
            FinishedAt = OptMs(Get("finished_at")),
            Exam = ExamSnapshots.Parse((byte[])Get("exam")!),
            IdDocumentPhotoAccepted = Get("id_photo") == 1,
            FacePhotoAccepted = Get("face_photo") == 1,
            IdDocumentPhoto = PinnedEvidence.Parse(Get("id_photo_ref").ToString()),
            FacePhoto = PinnedEvidence.Parse(Get("face_photo_ref").ToString()),
            StartRequest = Get("start_request").ToString(),
            FinishRequest = Get("finish_request").ToString(),
            Score = Get("score").IsNullOrEmpty ? 0 : double.Parse(Get("score").ToString(), CultureInfo.InvariantCulture),
            MaxScore = Get("max_score").IsNullOrEmpty ? 0 : double.Parse(Get("max_score").ToString(), CultureInfo.InvariantCulture),
            Receipt = Get("receipt").IsNullOrEmpty ? null : Receipt.Parser.ParseFrom((byte[])Get("receipt")!),
            Exception = Get("exception").IsNullOrEmpty ? null : SubmissionException.Parser.ParseFrom((byte[])Get("exception")!),
            DecisionVersion = Get("decision_version").IsNullOrEmpty ? 0 : (long)Get("decision_version"),
            ProblemReports = Get("problem_reports").IsNullOrEmpty ? 0 : (long)Get("problem_reports"),
            SecondLookBy = Get("second_look_by").IsNullOrEmpty ? null : Get("second_look_by").ToString(),
            LastHeartbeat = OptMs(Get("last_hb")),
            ResetAt = OptMs(Get("reset_at")),
            ResetBy = Get("reset_by").ToString(),
            ResetReason = Get("reset_reason").ToString(),
            Attempt = Get("attempt").IsNullOrEmpty ? 0 : (int)Get("attempt"),
        };
    }

    /// <summary>The session as the contract shows it.</summary>
    public Contracts.Session.V1.Session ToProto() => new()
    {
        SessionId = SessionId,
        ExamId = ExamId,
        CourseId = CourseId,
        LearnerId = LearnerId,
        State = State,
        StartedAt = Timestamp.FromDateTimeOffset(StartedAt),
        Deadline = Timestamp.FromDateTimeOffset(Deadline),
        LastAckedSequence = LastAcked,
        SubmittedAt = SubmittedAt is { } s ? Timestamp.FromDateTimeOffset(s) : null,
        Rules = Exam.Rules?.Clone() ?? new ExamRules(),
        HeartbeatInterval = Exam.HeartbeatInterval?.Clone(),
        ResetAt = ResetAt is { } r ? Timestamp.FromDateTimeOffset(r) : null,
        ResetBy = ResetBy,
        ResetReason = ResetReason,
        Attempt = Attempt,
    };
}

/// <summary>Parsing of stored answers and incidents.</summary>
internal static class StoredFormats
{
    /// <summary>The stored answers of a session by question.</summary>
    public static Dictionary<string, StoredAnswer> Answers(HashEntry[] answers, HashEntry[] meta)
    {
        var metas = meta.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        var result = new Dictionary<string, StoredAnswer>(StringComparer.Ordinal);
        foreach (var e in answers)
        {
            var qid = e.Name.ToString();
            if (!metas.TryGetValue(qid, out var m)) continue;
            var parts = m.Split('|');
            result[qid] = new StoredAnswer(
                qid,
                Answer.Parser.ParseFrom((byte[])e.Value!),
                long.Parse(parts[0], CultureInfo.InvariantCulture),
                parts[1],
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], CultureInfo.InvariantCulture)));
        }
        return result;
    }

    /// <summary>The incidents of a session, on a timeline.</summary>
    public static List<Incident> Incidents(HashEntry[] entries)
    {
        var list = new List<Incident>();
        foreach (var e in entries)
        {
            var parts = e.Value.ToString().Split('|', 4);
            if (parts.Length < 4) continue;
            var incident = new Incident
            {
                IncidentId = e.Name.ToString(),
                Kind = (IncidentKind)int.Parse(parts[0], CultureInfo.InvariantCulture),
                StartedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[1], CultureInfo.InvariantCulture))),
                Details = parts[3],
            };
            if (parts[2].Length > 0)
            {
                incident.EndedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], CultureInfo.InvariantCulture)));
            }
            list.Add(incident);
        }
        return list.OrderBy(i => i.StartedAt.ToDateTimeOffset()).ThenBy(i => i.IncidentId, StringComparer.Ordinal).ToList();
    }
}
