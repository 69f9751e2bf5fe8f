namespace Vigil.Identity;

/// <summary>Marks the identity service's assembly (for in-process hosting in tests: <c>WebApplicationFactory&lt;IdentityApp&gt;</c>).</summary>
public sealed class IdentityApp;
