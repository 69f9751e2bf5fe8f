using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Identity.Tests.Hosting;

/// <summary>Authorization by default: nothing of identity's own is open to a caller without a token.</summary>
[Collection(IdentityCollection.Name)]
public sealed class OpenEndpointsTests(IdentityFixture fx)
{
    [Fact]
    public async Task Only_health_metrics_and_reflection_are_open_to_an_anonymous_caller()
    {
        var open = await OpenEndpoints.ListAsync(fx.Factory.Services);
        Assert.True(OpenEndpoints.ServiceDefaults.SetEquals(open), "Open endpoints: " + string.Join(", ", open));
    }
}
