using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Storage;

namespace Vigil.Session.Sessions;

/// <summary>
/// Who may reach a session, in one place, so that each handler states its rule in one line. A caller who may
/// not reach a session is refused with the same PermissionDenied, in the same words, whether the session exists
/// or not: a session id tells nothing about someone else's exam. NotFound goes only to a caller who may reach
/// every session (a Vigil service).
/// </summary>
internal sealed class SessionAccess(SessionStore sessions)
{
    private enum Rule
    {
        ItsLearner,
        Reader,
        Board,
    }

    /// <summary>The session, for its own learner only: the exam stream, the final check.</summary>
    public Task<SessionData> ForItsLearnerAsync(Caller caller, string sessionId) => LoadAsync(caller, sessionId, Rule.ItsLearner);

    /// <summary>The session, for its learner, its course's exam board or a Vigil service: reading it and its receipt.</summary>
    public Task<SessionData> ForReaderAsync(Caller caller, string sessionId) => LoadAsync(caller, sessionId, Rule.Reader);

    /// <summary>The session, for its course's exam board: the record, the photos, decisions and exceptions.</summary>
    public Task<SessionData> ForBoardAsync(Caller caller, string sessionId) => LoadAsync(caller, sessionId, Rule.Board);

    /// <summary>
    /// What is left of a session whose learner was erased (docs/privacy.md), for its course's exam board; null when it
    /// was not erased. Anyone else is refused as for a session.
    /// </summary>
    public async Task<ErasedSession?> ErasedForBoardAsync(Caller caller, string sessionId)
    {
        if (string.IsNullOrWhiteSpace(sessionId) || await sessions.GetErasedAsync(sessionId) is not { } erased) return null;
        if (!caller.IsBoardOf(erased.CourseId)) throw new AccessDeniedException(Refusal(caller, Rule.Board));
        return erased;
    }

    private async Task<SessionData> LoadAsync(Caller caller, string sessionId, Rule rule)
    {
        if (string.IsNullOrWhiteSpace(sessionId)) throw new InvalidRequestException("session_id", "The session is required.");
        var session = await sessions.GetAsync(sessionId);
        if (session is not null && May(caller, session, rule)) return session;
        // Erased at the learner's request: its board is told so (nothing is left to review or decide), anyone else as usual.
        if (session is null && rule == Rule.Board && await sessions.GetErasedAsync(sessionId) is { } erased && caller.IsBoardOf(erased.CourseId))
        {
            throw new PreconditionFailedException("SESSION_ERASED", "sessions/" + sessionId,
                $"The learner's data was erased at their request on {erased.ErasedAt:yyyy-MM-dd}: nothing is left to review or decide.");
        }
        if (session is null && rule == Rule.Reader && caller.IsService) throw new ResourceNotFoundException("session", sessionId);
        throw new AccessDeniedException(Refusal(caller, rule));
    }

    private static bool May(Caller caller, SessionData session, Rule rule) => rule switch
    {
        Rule.ItsLearner => IsItsLearner(caller, session),
        Rule.Reader => IsItsLearner(caller, session) || caller.IsBoardOf(session.CourseId) || caller.IsService,
        _ => caller.IsBoardOf(session.CourseId),
    };

    private static bool IsItsLearner(Caller caller, SessionData session) => caller.IsLearner && session.LearnerId == caller.Subject;

    /// <summary>What the caller is told: what they may reach, never whether this session exists.</summary>
    private static string Refusal(Caller caller, Rule rule) => rule switch
    {
        Rule.ItsLearner when caller.IsLearner => NotYours,
        Rule.ItsLearner => "Only the session's own learner may do this.",
        Rule.Reader when caller.IsLearner => NotYours,
        Rule.Reader when caller.BoardCourses.Any() => NotYourBoards,
        Rule.Reader => "A session is read only by its learner, its course's exam board or a Vigil service.",
        _ when caller.BoardCourses.Any() => NotYourBoards,
        _ => "Only the exam board of the session's course may do this.",
    };

    private const string NotYours = "No session of yours has this id: a learner reaches only their own sessions.";

    private const string NotYourBoards = "No session of a course whose exam board you sit on has this id.";
}
