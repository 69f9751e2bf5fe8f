using Vigil.Contracts.Session.V1;
using Vigil.Session.Review;
using Vigil.Session.Storage;

namespace Vigil.Session.Tests.Storage;

/// <summary>Every branch of ReportProblem.lua: recorded (running, after the end inside the window), duplicate, window closed, missing.</summary>
public sealed partial class SessionStoreTests
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);

    [Fact]
    public async Task ReportProblem_records_an_incident_on_the_timeline_once_per_request_while_running_and_inside_the_window()
    {
        var s = New();
        var id = await StartAsync(s);

        var running = await s.Store.ReportProblemAsync(id, "problem:r1", "The camera froze | then the page reloaded", T0.AddMinutes(5), Window);
        Assert.Equal(new ProblemReportReply(ProblemReportStatus.Recorded, "inc-1", AfterEnd: false), running);
        Assert.Equal(new ProblemReportReply(ProblemReportStatus.Duplicate, "inc-1"),
            await s.Store.ReportProblemAsync(id, "problem:r1", "The camera froze | then the page reloaded", T0.AddMinutes(6), Window));
        var incident = Assert.Single(await s.Store.GetIncidentsAsync(id));
        Assert.Equal((IncidentKind.ProblemReported, "The camera froze | then the page reloaded", T0.AddMinutes(5), T0.AddMinutes(5)),
            (incident.Kind, incident.Details, incident.StartedAt.ToDateTimeOffset(), incident.EndedAt.ToDateTimeOffset()));
        Assert.Equal(1, (await s.Store.GetAsync(id))!.ProblemReports);
        Assert.Equal(incident, await s.Store.GetProblemReportAsync(id, "inc-1"));
        Assert.Null(await s.Store.GetProblemReportAsync(id, "inc-9"));

        // Ended at T0+1min: reports are taken until T0+1min+24h, then refused with the window's end.
        var session = (await s.Store.GetAsync(id))!;
        Assert.Equal(FinishStatus.Finished, (await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, session, T0.AddMinutes(10), SessionState.Submitted, 0))).Status);
        var after = await s.Store.ReportProblemAsync(id, "problem:r2", "The final check hung", T0.AddMinutes(10) + Window, Window);
        Assert.Equal(new ProblemReportReply(ProblemReportStatus.Recorded, "inc-2", AfterEnd: true), after);
        Assert.Equal(new ProblemReportReply(ProblemReportStatus.WindowClosed, WindowClosedAt: T0.AddMinutes(10) + Window),
            await s.Store.ReportProblemAsync(id, "problem:r3", "Too late", T0.AddMinutes(10) + Window + TimeSpan.FromMilliseconds(1), Window));
        Assert.Equal(2, (await s.Store.GetAsync(id))!.ProblemReports);
        Assert.Equal(2, await s.Store.CountIncidentsAsync(id));

        // The review index: "with a problem report" and "with incidents" hold for the finished session.
        await s.Store.IndexForReviewAsync(id);
        var member = SessionStore.ReviewMember(T0.AddMinutes(10), id);
        Assert.Equal([member], await s.Store.ReadReviewSetAsync(session.CourseId, ReviewFilter.WithProblemReport, null, 10));
        Assert.Equal([member], await s.Store.ReadReviewSetAsync(session.CourseId, ReviewFilter.WithIncidents, null, 10));

        Assert.Equal(new ProblemReportReply(ProblemReportStatus.Missing), await s.Store.ReportProblemAsync("ses-missing", "problem:r4", "x", T0, Window));
    }
}
