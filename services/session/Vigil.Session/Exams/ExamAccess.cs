using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Session.Exams;

/// <summary>
/// Who may manage an exam, in one place: its course's staff, or a Vigil service. An exam's existence is not
/// personal data (any learner may start an exam by its id), so a missing exam is NotFound for everyone; an
/// exam of another course is PermissionDenied.
/// </summary>
internal sealed class ExamAccess(ExamStore exams)
{
    /// <summary>The exam, for its course's staff or a service.</summary>
    public async Task<Exam> ForStaffAsync(Caller caller, string examId, string field = "exam_id")
    {
        if (string.IsNullOrWhiteSpace(examId)) throw new InvalidRequestException(field, "The exam id is required.");
        var exam = await exams.GetAsync(examId) ?? throw new ResourceNotFoundException("exam", examId);
        caller.RequireStaffOf(exam.CourseId);
        return exam;
    }
}
