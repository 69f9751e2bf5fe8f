namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// The shape of ids a caller sends (a request_id for idempotent retries, an exam id): 1-128 characters of
/// letters, digits, '-', '_', '.', ':'. Anything else is InvalidArgument naming the field.
/// </summary>
public static class RequestIds
{
    /// <summary>Requires a well-formed request_id.</summary>
    public static void RequireRequestId(string? requestId, string field = "request_id")
    {
        if (!IsWellFormed(requestId))
        {
            throw new InvalidRequestException(field, "A request_id of 1-128 characters (letters, digits, '-', '_', '.', ':') is required, the same on every retry.");
        }
    }

    /// <summary>Requires a well-formed id in <paramref name="field"/>.</summary>
    public static void RequireId(string field, string? value)
    {
        if (!IsWellFormed(value))
        {
            throw new InvalidRequestException(field, "Required: 1-128 characters (letters, digits, '-', '_', '.', ':').");
        }
    }

    private static bool IsWellFormed(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
