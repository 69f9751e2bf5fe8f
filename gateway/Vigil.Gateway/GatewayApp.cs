namespace Vigil.Gateway;

/// <summary>Marks the gateway's assembly (for in-process hosting in tests: <c>WebApplicationFactory&lt;GatewayApp&gt;</c>).</summary>
public sealed class GatewayApp;
