using Microsoft.AspNetCore.Hosting;
using Vigil.Testing;

namespace Vigil.Identity.Tests.Hosting;

public sealed class StartupTests
{
    /// <summary>The identity host in Production, with the given extra settings.</summary>
    private sealed class ProductionFactory(Dictionary<string, string?> settings) : VigilServiceFactory<IdentityApp>("identity", settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
    }

    private static string StartupFailure(Dictionary<string, string?> settings)
    {
        using var factory = new ProductionFactory(settings);
        var ex = Assert.ThrowsAny<Exception>(() => factory.Server);
        return ex.ToString();
    }

    [Fact]
    public void Production_refuses_to_start_without_a_photo_encryption_key()
    {
        var failure = StartupFailure([]);
        Assert.Contains("Photos:EncryptionKeys is empty", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_refuses_the_development_key_shipped_in_the_repository()
    {
        var failure = StartupFailure(new()
        {
            ["Photos:ActiveKeyId"] = "dev-only-1",
            ["Photos:EncryptionKeys:0:KeyId"] = "dev-only-1",
            ["Photos:EncryptionKeys:0:Key"] = Convert.ToBase64String(new byte[32]),
        });
        Assert.Contains("development/testing key outside Development and Testing", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Identity:IdempotencyWindow", "00:00:00", "Identity:IdempotencyWindow: The field IdempotencyWindow must be between")]
    [InlineData("Photos:MinShortSide", "5000", "Photos:MinShortSide must not exceed Photos:MinLongSide.")]
    [InlineData("Emails:Providers:0:Name", "Example", "Emails:Providers:0 needs Domains, none blank.")]
    public void An_invalid_setting_stops_the_start(string key, string value, string expected)
    {
        using var factory = new VigilServiceFactory<IdentityApp>("identity", new Dictionary<string, string?> { [key] = value });
        var ex = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains(expected, ex.ToString(), StringComparison.Ordinal);
    }
}
