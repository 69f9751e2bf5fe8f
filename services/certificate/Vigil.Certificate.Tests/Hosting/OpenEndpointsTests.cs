using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Certificate.Tests.Hosting;

/// <summary>Authorization by default: certificate verification is the one public API; the dashboard needs a token.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class OpenEndpointsTests(RunningService service)
{
    [Fact]
    public async Task Only_certificate_verification_health_metrics_and_reflection_are_open_to_an_anonymous_caller()
    {
        var open = await OpenEndpoints.ListAsync(service.Host.Factory.Services);
        string[] expected = [.. OpenEndpoints.ServiceDefaults, "vigil.certificate.v1.CertificateVerificationService"];
        Assert.True(open.SetEquals(expected), "Open endpoints: " + string.Join(", ", open));
    }
}
