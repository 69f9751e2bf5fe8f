namespace Vigil.ServiceDefaults.Messaging;

/// <summary>The shapes of the ids events carry, checked by every consumer before anything is stored.</summary>
public static class EventChecks
{
    /// <summary>
    /// An id that names a record in Redis (a learner, a session, an exam): 1-200 characters, no braces (they would pick
    /// a hash tag), whitespace or control characters.
    /// </summary>
    public static bool IsRecordId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 200 && !id.Any(c => c is '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>A request id chosen by a caller: 1-128 of letters, digits, '-', '_', '.', ':'.</summary>
    public static bool IsRequestId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
