namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// What went wrong, said in the domain's terms: every refusal a service gives is one of these, thrown from
/// wherever the rule lives (a handler, a rule class, a store). <see cref="GrpcErrors"/> maps them to gRPC
/// statuses with google.rpc details, in one place (the error interceptor), so no class below the gRPC surface
/// knows about status codes. The message is for a person and names no one else's data.
/// </summary>
public abstract class DomainException(string message) : Exception(message);

/// <summary>The request itself is wrong: which fields and what to fix (InvalidArgument, with a BadRequest).</summary>
public sealed class InvalidRequestException : DomainException
{
    /// <summary>One field and what is wrong with it.</summary>
    public InvalidRequestException(string field, string description)
        : this([(field, description)])
    {
    }

    /// <summary>Several fields at once.</summary>
    public InvalidRequestException(IEnumerable<(string Field, string Description)> violations)
        : this(violations.ToList())
    {
    }

    private InvalidRequestException(List<(string Field, string Description)> violations)
        : base(string.Join(" ", violations.Select(v => $"{v.Field}: {v.Description}")))
    {
        Violations = violations;
    }

    /// <summary>The fields and what is wrong with each.</summary>
    public IReadOnlyList<(string Field, string Description)> Violations { get; }
}

/// <summary>
/// The request is fine but something must happen first (FailedPrecondition, with a PreconditionFailure).
/// </summary>
public sealed class PreconditionFailedException : DomainException
{
    /// <summary>One precondition.</summary>
    /// <param name="type">A machine-readable kind, e.g. "VERIFICATION_INCOMPLETE".</param>
    /// <param name="subject">What it is about, e.g. "exams/123".</param>
    /// <param name="description">What must happen first, for a person (also the message).</param>
    public PreconditionFailedException(string type, string subject, string description)
        : this(description, [(type, subject, description)])
    {
    }

    /// <summary>Several preconditions, with one message for the whole.</summary>
    public PreconditionFailedException(string message, IEnumerable<(string Type, string Subject, string Description)> violations)
        : base(message)
    {
        Violations = violations.ToList();
    }

    /// <summary>Each precondition not met.</summary>
    public IReadOnlyList<(string Type, string Subject, string Description)> Violations { get; }

    /// <summary>
    /// Values a client can act on (e.g. attempts used and allowed), sent as a google.rpc.ErrorInfo beside the
    /// PreconditionFailure (reason: the first violation's type, domain <see cref="GrpcErrors.Domain"/>); none when empty.
    /// </summary>
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// No such thing, told only to a caller who would be allowed to see it (NotFound, with a ResourceInfo).
/// Anyone else gets <see cref="AccessDeniedException"/>, existing or not.
/// </summary>
public sealed class ResourceNotFoundException(string resourceType, string resourceName)
    : DomainException($"No {resourceType} '{resourceName}'.")
{
    /// <summary>The kind of thing, e.g. "session".</summary>
    public string ResourceType { get; } = resourceType;

    /// <summary>Its id as the caller gave it.</summary>
    public string ResourceName { get; } = resourceName;
}

/// <summary>The thing the request would create is already someone's (AlreadyExists, with a ResourceInfo).</summary>
public sealed class AlreadyExistsException(string resourceType, string resourceName, string description) : DomainException(description)
{
    /// <summary>The kind of thing, e.g. "learner-email".</summary>
    public string ResourceType { get; } = resourceType;

    /// <summary>Which one, as far as the caller may know.</summary>
    public string ResourceName { get; } = resourceName;
}

/// <summary>The caller may not do this, or may not reach this thing whether or not it exists (PermissionDenied).</summary>
public sealed class AccessDeniedException(string description) : DomainException(description);

/// <summary>The call has no valid bearer token (Unauthenticated).</summary>
public sealed class NotAuthenticatedException(string description) : DomainException(description);

/// <summary>A size cap or a rate limit was reached (ResourceExhausted, with a QuotaFailure).</summary>
public sealed class QuotaExceededException(string subject, string description) : DomainException(description)
{
    /// <summary>What the limit applies to, e.g. "photo".</summary>
    public string Subject { get; } = subject;
}

/// <summary>A concurrent change won; read again and retry (Aborted).</summary>
public sealed class ConcurrentChangeException(string description) : DomainException(description);

/// <summary>This instance or something it depends on cannot answer now; nothing changed, retry (Unavailable).</summary>
public sealed class ServiceUnavailableException(string description, TimeSpan? retryAfter = null) : DomainException(description)
{
    /// <summary>How long the client should wait before retrying (the status's <c>RetryInfo</c>).</summary>
    public TimeSpan RetryAfter { get; } = retryAfter ?? GrpcErrors.DefaultRetryDelay;
}

/// <summary>
/// Data this service stored cannot be read back (a key removed, a record damaged): the caller can do nothing
/// about it (Internal, with this message, which names no key material). The thrower logs what ops need.
/// </summary>
public sealed class StoredDataUnreadableException(string description) : DomainException(description);
