namespace Vigil.Certificate;

/// <summary>Marks the certificate service's assembly (for in-process hosting in tests: <c>WebApplicationFactory&lt;CertificateApp&gt;</c>).</summary>
public sealed class CertificateApp;
