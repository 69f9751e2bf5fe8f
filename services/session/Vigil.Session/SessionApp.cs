namespace Vigil.Session;

/// <summary>Marks the session service's assembly (for in-process hosting in tests: <c>WebApplicationFactory&lt;SessionApp&gt;</c>).</summary>
public sealed class SessionApp;
