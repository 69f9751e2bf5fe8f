using Grpc.Core;
using Grpc.Net.Client;
using Vigil.ServiceDefaults.Auth;

namespace Vigil.Cli.Cli;

/// <summary>
/// The channel to the gateway (h2c by default, TLS for https addresses) and the caller's token: --token,
/// VIGIL_TOKEN, or --as role:subject[:courses] minted from the development key (only a Development
/// configuration accepts those).
/// </summary>
internal sealed class GatewayConnection : IDisposable
{
    public const string DefaultGateway = "http://127.0.0.1:5100";

    private readonly GrpcChannel _channel;

    public GatewayConnection(string address)
    {
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            },
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
    }

    public string Address { get; }

    public CallInvoker Invoker => _channel.CreateCallInvoker();

    public static GatewayConnection From(Args args) =>
        new(args.Get("gateway") ?? Environment.GetEnvironmentVariable("VIGIL_GATEWAY") ?? DefaultGateway);

    /// <summary>Call options carrying a bearer token.</summary>
    public static CallOptions With(string? token, CancellationToken cancellationToken = default, TimeSpan? timeout = null)
    {
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(token)) headers.Add("authorization", "Bearer " + token);
        return new CallOptions(headers, timeout is null ? null : DateTime.UtcNow + timeout.Value, cancellationToken);
    }

    /// <summary>The token for this command: --token, --as, or VIGIL_TOKEN.</summary>
    public static string? TokenFrom(Args args)
    {
        if (args.Get("token") is { Length: > 0 } token) return token;
        if (args.Get("as") is { Length: > 0 } who) return DevTokens.FromSpec(args, who);
        return Environment.GetEnvironmentVariable("VIGIL_TOKEN") is { Length: > 0 } env ? env : null;
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>Tokens minted from the development key.</summary>
internal static class DevTokens
{
    public static string Key(Args args) =>
        args.Get("dev-key") ?? Environment.GetEnvironmentVariable("VIGIL_DEV_KEY") ?? DevelopmentTokens.LocalKey;

    public static string Mint(Args args, string role, string subject, IReadOnlyList<string> courses, string? name = null, TimeSpan? lifetime = null)
    {
        var issuer = args.Get("issuer") ?? "vigil-dev";
        var audience = args.Get("audience") ?? "vigil";
        return role switch
        {
            "learner" => DevelopmentTokens.Mint(Key(args), issuer, audience, subject, roles: [VigilRoles.Learner], name: name, lifetime: lifetime),
            "board" => DevelopmentTokens.Mint(Key(args), issuer, audience, subject, boardCourses: courses, name: name, lifetime: lifetime),
            "staff" => DevelopmentTokens.Mint(Key(args), issuer, audience, subject, staffCourses: courses, name: name, lifetime: lifetime),
            "ops" => DevelopmentTokens.Mint(Key(args), issuer, audience, subject, roles: [VigilRoles.Ops], name: name, lifetime: lifetime),
            _ => throw new UsageException($"Unknown role '{role}': learner, board, staff or ops."),
        };
    }

    /// <summary>"learner:ada", "board:m1:course-1,course-2", "staff:s1:course-1".</summary>
    public static string FromSpec(Args args, string spec)
    {
        var parts = spec.Split(':', 3);
        if (parts.Length < 2 || parts[1].Length == 0) throw new UsageException("--as takes role:subject[:course,course]");
        var courses = parts.Length > 2 ? parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
        return Mint(args, parts[0], parts[1], courses);
    }
}
