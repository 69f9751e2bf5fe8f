using Google.Protobuf.Reflection;

namespace Vigil.Contracts.Tests;

/// <summary>The RPCs integrators build against: each one present with its own request and response.</summary>
public sealed class RpcContractTests
{
    // service, method, request, response, client streaming, server streaming
    public static TheoryData<string, string, string, string, bool, bool> ExpectedRpcs => new()
    {
        { "vigil.identity.v1.IdentityService", "CheckEmail", "CheckEmailRequest", "CheckEmailResponse", false, false },
        { "vigil.identity.v1.IdentityService", "RegisterLearner", "RegisterLearnerRequest", "RegisterLearnerResponse", false, false },
        { "vigil.identity.v1.IdentityService", "GetLearner", "GetLearnerRequest", "GetLearnerResponse", false, false },
        { "vigil.identity.v1.IdentityService", "ConfigureExamVerification", "ConfigureExamVerificationRequest", "ConfigureExamVerificationResponse", false, false },
        { "vigil.identity.v1.IdentityService", "CompleteVerificationStep", "CompleteVerificationStepRequest", "CompleteVerificationStepResponse", false, false },
        { "vigil.identity.v1.IdentityService", "UploadPhoto", "UploadPhotoRequest", "UploadPhotoResponse", true, false },
        { "vigil.identity.v1.IdentityService", "GetVerificationStatus", "GetVerificationStatusRequest", "GetVerificationStatusResponse", false, false },
        { "vigil.identity.v1.IdentityService", "GetPhoto", "GetPhotoRequest", "GetPhotoResponse", false, false },
        { "vigil.identity.v1.IdentityService", "EraseLearnerData", "EraseLearnerDataRequest", "EraseLearnerDataResponse", false, false },
        { "vigil.identity.v1.IdentityService", "AdmitToExam", "AdmitToExamRequest", "AdmitToExamResponse", false, false },
        { "vigil.session.v1.ExamService", "CreateExam", "CreateExamRequest", "CreateExamResponse", false, false },
        { "vigil.session.v1.ExamService", "UpdateExam", "UpdateExamRequest", "UpdateExamResponse", false, false },
        { "vigil.session.v1.ExamService", "GetExam", "GetExamRequest", "GetExamResponse", false, false },
        { "vigil.session.v1.ExamService", "ListExams", "ListExamsRequest", "ListExamsResponse", false, false },
        { "vigil.session.v1.ExamService", "GrantExtraTime", "GrantExtraTimeRequest", "GrantExtraTimeResponse", false, false },
        { "vigil.session.v1.ExamService", "GrantAllowance", "GrantAllowanceRequest", "GrantAllowanceResponse", false, false },
        { "vigil.session.v1.ExamService", "GetAllowance", "GetAllowanceRequest", "GetAllowanceResponse", false, false },
        { "vigil.session.v1.ExamService", "ResetAttempt", "ResetAttemptRequest", "ResetAttemptResponse", false, false },
        { "vigil.session.v1.SessionService", "StartSession", "StartSessionRequest", "StartSessionResponse", false, false },
        { "vigil.session.v1.SessionService", "GetSession", "GetSessionRequest", "GetSessionResponse", false, false },
        { "vigil.session.v1.SessionService", "StreamExam", "StreamExamRequest", "StreamExamResponse", true, true },
        { "vigil.session.v1.SessionService", "SubmitFinalCheck", "SubmitFinalCheckRequest", "SubmitFinalCheckResponse", false, false },
        { "vigil.session.v1.SessionService", "GetReceipt", "GetReceiptRequest", "GetReceiptResponse", false, false },
        { "vigil.session.v1.SessionService", "ListMySessions", "ListMySessionsRequest", "ListMySessionsResponse", false, false },
        { "vigil.session.v1.SessionService", "ReportProblem", "ReportProblemRequest", "ReportProblemResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "ListSessionsForReview", "ListSessionsForReviewRequest", "ListSessionsForReviewResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "GetSessionRecord", "GetSessionRecordRequest", "GetSessionRecordResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "GetReviewPhoto", "GetReviewPhotoRequest", "GetReviewPhotoResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "RecordDecision", "RecordDecisionRequest", "RecordDecisionResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "AcceptSavedAnswers", "AcceptSavedAnswersRequest", "AcceptSavedAnswersResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "RequestSecondLook", "RequestSecondLookRequest", "RequestSecondLookResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "GetDecisionHistory", "GetDecisionHistoryRequest", "GetDecisionHistoryResponse", false, false },
        { "vigil.session.v1.ExamBoardService", "ListAuditEntries", "ListAuditEntriesRequest", "ListAuditEntriesResponse", false, false },
        { "vigil.session.v1.CourseResultsService", "ExportResults", "ExportResultsRequest", "ExportResultsResponse", false, true },
        { "vigil.session.v1.ErasureService", "StartErasure", "StartErasureRequest", "StartErasureResponse", false, false },
        { "vigil.session.v1.ErasureService", "GetErasure", "GetErasureRequest", "GetErasureResponse", false, false },
        { "vigil.certificate.v1.DashboardService", "GetDashboard", "GetDashboardRequest", "GetDashboardResponse", false, false },
        { "vigil.certificate.v1.DashboardService", "WatchDashboard", "WatchDashboardRequest", "WatchDashboardResponse", false, true },
        { "vigil.certificate.v1.DashboardService", "EraseLearnerData", "EraseLearnerDataRequest", "EraseLearnerDataResponse", false, false },
        { "vigil.certificate.v1.CertificateVerificationService", "VerifyCertificate", "VerifyCertificateRequest", "VerifyCertificateResponse", false, false },
        { "vigil.certificate.v1.CertificateVerificationService", "ListSigningKeys", "ListSigningKeysRequest", "ListSigningKeysResponse", false, false },
    };

    [Theory]
    [MemberData(nameof(ExpectedRpcs))]
    public void Rpc_exists_with_its_request_and_response(string service, string method, string request, string response, bool clientStreaming, bool serverStreaming)
    {
        var svc = Contract.Services.SingleOrDefault(s => s.FullName == service);
        Assert.True(svc is not null, $"service {service} is missing");
        var m = svc!.FindMethodByName(method);
        Assert.True(m is not null, $"{service}/{method} is missing");
        Assert.Equal(request, m!.InputType.Name);
        Assert.Equal(response, m.OutputType.Name);
        Assert.Equal(clientStreaming, m.IsClientStreaming);
        Assert.Equal(serverStreaming, m.IsServerStreaming);
    }

    [Fact]
    public void No_rpc_is_missing_from_the_expected_table()
    {
        var expected = ExpectedRpcs.Select(row => $"{row[0]}/{row[1]}").ToHashSet();
        var actual = Contract.Methods.Select(m => $"{m.Service.FullName}/{m.Name}").ToHashSet();
        // A new RPC must be added to the table above (and to the docs); a removed one is a breaking change.
        Assert.Empty(actual.Except(expected));
        Assert.Empty(expected.Except(actual));
    }

    [Fact]
    public void Every_rpc_has_its_own_request_and_response()
    {
        var inputs = Contract.Methods.GroupBy(m => m.InputType.FullName).Where(g => g.Count() > 1).Select(g => g.Key);
        var outputs = Contract.Methods.GroupBy(m => m.OutputType.FullName).Where(g => g.Count() > 1).Select(g => g.Key);
        Assert.Empty(inputs);
        Assert.Empty(outputs);
        foreach (var m in Contract.Methods)
        {
            Assert.Equal(m.Name + "Request", m.InputType.Name);
            Assert.Equal(m.Name + "Response", m.OutputType.Name);
        }
    }

    // Mutating RPCs carry request_id for idempotent retries. StreamExam is the exception: each save is
    // idempotent by its own sequence number, which is how the stream resumes after a reconnect.
    private static readonly string[] ReadOnlyVerbs = ["Get", "List", "Check", "Watch", "Verify"];

    public static TheoryData<string> MutatingRpcs()
    {
        var data = new TheoryData<string>();
        foreach (var m in Contract.Methods.Where(m => !ReadOnlyVerbs.Any(v => m.Name.StartsWith(v, StringComparison.Ordinal)) && m.Name != "StreamExam"))
        {
            data.Add(m.FullName);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(MutatingRpcs))]
    public void Every_mutating_request_carries_request_id(string methodFullName)
    {
        var m = Contract.Methods.Single(x => x.FullName == methodFullName);
        var request = m.InputType;
        // A client stream carries it in its first message (the metadata part of the oneof).
        var holder = m.IsClientStreaming
            ? request.Fields.InFieldNumberOrder().Where(f => f.FieldType == FieldType.Message).Select(f => f.MessageType).FirstOrDefault(t => t.FindFieldByName("request_id") is not null)
            : request;
        var field = holder?.FindFieldByName("request_id");
        Assert.True(field is not null, $"{methodFullName}: {request.Name} has no request_id");
        Assert.Equal(FieldType.String, field!.FieldType);
    }

    [Fact]
    public void The_stream_saves_are_idempotent_by_sequence()
    {
        var save = Contract.Messages.Single(m => m.FullName == "vigil.session.v1.AnswerSave");
        Assert.Equal(FieldType.Int64, save.FindFieldByName("sequence")!.FieldType);
        var open = Contract.Messages.Single(m => m.FullName == "vigil.session.v1.OpenStream");
        Assert.NotNull(open.FindFieldByName("last_acked_sequence"));
    }

    [Fact]
    public void Every_enum_starts_with_unspecified_zero()
    {
        foreach (var e in Contract.Enums)
        {
            var zero = e.FindValueByNumber(0);
            Assert.True(zero is not null, $"{e.FullName} has no zero value");
            Assert.EndsWith("_UNSPECIFIED", zero!.Name, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Packages_are_versioned_per_service()
    {
        Assert.All(Contract.Files, f => Assert.Matches(@"^vigil\.(identity|session|certificate)\.v1$", f.Package));
    }
}
