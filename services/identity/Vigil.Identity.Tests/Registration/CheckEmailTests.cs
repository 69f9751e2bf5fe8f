using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing.Images;
using static Vigil.Identity.Tests.Infrastructure.IdentityFixture;

namespace Vigil.Identity.Tests.Registration;

/// <summary>CheckEmail: aliases refused early, with the address to use.</summary>
[Collection(IdentityCollection.Name)]
public sealed class CheckEmailTests(IdentityFixture fx)
{
    [Fact]
    public async Task Check_email_refuses_an_alias_early_with_the_address_to_use()
    {
        var client = fx.Learner(IdentityFixture.NewId("l"));
        var check = await client.CheckEmailAsync(new CheckEmailRequest { Email = "jane+mooc@uni.fr" });
        Assert.Equal(EmailVerdict.Refused, check.Verdict);
        Assert.Equal(EmailRefusalReason.Alias, check.Reason);
        Assert.Equal("jane@uni.fr", check.SuggestedEmail);
        Assert.Contains("use jane@uni.fr", check.Message, StringComparison.OrdinalIgnoreCase);
        var ok = await client.CheckEmailAsync(new CheckEmailRequest { Email = "jean-luc@uni.fr" });
        Assert.Equal(EmailVerdict.Accepted, ok.Verdict);
        Assert.Equal("jean-luc@uni.fr", ok.CanonicalEmail);
    }
}
