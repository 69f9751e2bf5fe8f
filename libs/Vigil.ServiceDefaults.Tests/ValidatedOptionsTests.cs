using Grpc.AspNetCore.Server;
using MassTransit;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Messaging;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// The shared options: a bad setting stops the start with a message naming its key (and no secret); settings
/// given after the wiring reach it (nothing is read while the builder runs); nothing reports usage to third parties.
/// </summary>
public sealed class ValidatedOptionsTests
{
    [Theory]
    [InlineData("Hosting:MaxReceiveMessageBytes", "1", "Hosting:MaxReceiveMessageBytes: The field MaxReceiveMessageBytes must be between")]
    [InlineData("Hosting:DrainDelay", "-00:00:01", "Hosting:DrainDelay: The field DrainDelay must be between")]
    [InlineData("Hosting:ShutdownTimeout", "00:00:00", "Hosting:ShutdownTimeout: The field ShutdownTimeout must be between")]
    [InlineData("RabbitMq:Uri", "http://127.0.0.1:5672/", "RabbitMq:Uri must be an amqp:// or amqps:// URI")]
    [InlineData("RabbitMq:PrefetchCount", "0", "RabbitMq:PrefetchCount: The field PrefetchCount must be between 1 and 1000.")]
    [InlineData("Redis:Configuration", "", "Redis:Configuration: The Configuration field is required.")]
    [InlineData("Redis:Configuration", "127.0.0.1:6379,nosuchoption=1", "Redis:Configuration is not a StackExchange.Redis configuration string")]
    [InlineData("Redis:KeyPrefix", "vigil:{tag}:", "Redis:KeyPrefix is 1-64 characters")]
    [InlineData("Auth:SigningKeys:0", "not a key", "Auth:SigningKeys:0 is not a readable PEM public key")]
    [InlineData("Auth:ClockSkew", "01:00:00", "Auth:ClockSkew: The field ClockSkew must be between")]
    [InlineData("Auth:Issuer", "", "Auth:Issuer is required when no Auth:Authority is given")]
    [InlineData("Auth:Algorithms:0", "HS256", "Auth:Algorithms may not contain 'HS256'")]
    [InlineData("Auth:Algorithms:0", "none", "Auth:Algorithms may not contain 'none'")]
    [InlineData("Auth:Authority", "not a url", "Auth:Authority must be an absolute URL")]
    [InlineData("Auth:Claims:Rules:0:To", "admin", "Auth:Claims:Rules:0:To must be role, board_course or staff_course")]
    public async Task An_invalid_setting_stops_the_start_naming_its_key(string key, string value, string expected)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = await TestHost.StartAsync(settings: new() { [key] = value });
        });
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RabbitMq:Uri", "http://vigil:s3cret-password@rabbitmq:5672/")]
    [InlineData("Redis:Configuration", "redis:6379,password=s3cret-password,nosuchoption=1")]
    public async Task The_message_never_echoes_a_connection_string(string key, string value)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = await TestHost.StartAsync(settings: new() { [key] = value });
        });
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-password", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_given_after_the_wiring_reach_grpc_the_host_and_the_token_validation()
    {
        // TestHost adds its settings after AddServiceDefaults, AddVigilRedis and AddVigilMessaging.
        await using var app = await TestHost.StartAsync(settings: new()
        {
            ["Hosting:MaxReceiveMessageBytes"] = "123456",
            ["Hosting:ShutdownTimeout"] = "00:00:07",
            ["Auth:Issuer"] = "a-late-issuer",
        });
        Assert.Equal(123456, app.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize);
        Assert.Equal(TimeSpan.FromSeconds(7), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        var bearer = app.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        Assert.Equal("a-late-issuer", bearer.TokenValidationParameters.ValidIssuer);
    }

    [Fact]
    public async Task MassTransit_reports_no_usage_telemetry()
    {
        await using var app = await TestHost.StartAsync();
        Assert.False(app.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }

    [Fact]
    public void The_environment_variable_that_would_turn_usage_telemetry_back_on_stops_the_start()
    {
        Assert.True(new UsageTelemetryOff().Validate(null, new UsageTelemetryOptions { Enabled = true }).Failed);
        foreach (var on in new[] { "true", "True", "1" }) Assert.True(UsageTelemetryOff.TurnsOn(on), on);
        foreach (var off in new[] { null, "", "false", "0", "2", "yes" }) Assert.False(UsageTelemetryOff.TurnsOn(off), off);
    }
}
