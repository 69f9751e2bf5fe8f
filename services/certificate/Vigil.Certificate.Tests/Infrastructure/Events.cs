using Grpc.Core;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using StackExchange.Redis;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;

namespace Vigil.Certificate.Tests.Infrastructure;

/// <summary>Builders of real events with fresh ids.</summary>
public static class Events
{
    public static SessionSubmitted Submitted(string sessionId, string learnerId, double score = 80, bool idPhoto = true,
        SubmissionKind kind = SubmissionKind.FinalCheck, double passMark = 60) => new()
    {
        EventId = Guid.NewGuid(),
        SessionId = sessionId,
        ExamId = "exam-1",
        CourseId = "course-1",
        LearnerId = learnerId,
        LearnerName = "Zoë Martin",
        ExamTitle = "Urban ecology — final exam",
        Kind = kind,
        SubmittedAt = DateTimeOffset.UtcNow,
        Score = score,
        MaxScore = 100,
        PassMark = passMark,
        IdDocumentPhotoAccepted = idPhoto,
        ReceiptDigest = new string('a', 64),
    };

    public static SessionExpired Expired(string sessionId, string learnerId) => new()
    {
        EventId = Guid.NewGuid(),
        SessionId = sessionId,
        ExamId = "exam-1",
        CourseId = "course-1",
        LearnerId = learnerId,
        ExamTitle = "Urban ecology — final exam",
        ExpiredAt = DateTimeOffset.UtcNow,
        UnvalidatedAnswers = 3,
    };

    public static BoardDecisionRecorded Decision(string sessionId, string learnerId, long version, DecisionOutcome outcome,
        string reasonCode = "", string reasonText = "") => new()
    {
        EventId = Guid.NewGuid(),
        SessionId = sessionId,
        ExamId = "exam-1",
        CourseId = "course-1",
        LearnerId = learnerId,
        Version = version,
        Outcome = outcome,
        ReasonCode = reasonCode,
        ReasonText = reasonText,
        DecidedBy = "board-1",
        DecidedAt = DateTimeOffset.UtcNow,
    };

    public static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];
}
