using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Hosting;

/// <summary>Authorization by default: nothing of the session service's own is open to a caller without a token.</summary>
[Collection(SessionCollection.Name)]
public sealed class OpenEndpointsTests(SessionFixture f)
{
    [Fact]
    public async Task Only_health_metrics_and_reflection_are_open_to_an_anonymous_caller()
    {
        var open = await OpenEndpoints.ListAsync(f.ReplicaA.Services);
        Assert.True(OpenEndpoints.ServiceDefaults.SetEquals(open), "Open endpoints: " + string.Join(", ", open));
    }
}
