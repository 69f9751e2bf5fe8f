using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using ErrorInfo = Google.Rpc.ErrorInfo;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// Why a bearer token was refused, in words for the caller and a stable reason code (google.rpc.ErrorInfo,
/// domain <see cref="Domain"/>) a client can act on: refresh an expired token, fix a clock, report a
/// misconfigured provider. Never the token itself.
/// </summary>
public static class TokenRefusals
{
    /// <summary>The ErrorInfo domain of token refusals.</summary>
    public const string Domain = "auth.vigil";

    /// <summary>A refusal: its reason code and message.</summary>
    public sealed record Refusal(string Reason, string Message)
    {
        /// <summary>The google.rpc.ErrorInfo detail.</summary>
        public Any Detail() => Any.Pack(new ErrorInfo { Reason = Reason, Domain = Domain });
    }

    /// <summary>What to tell a caller whose authentication failed with <paramref name="failure"/> (null: no token, or none that could be read).</summary>
    public static Refusal Describe(Exception? failure, HttpRequest request) => failure switch
    {
        null when !request.Headers.Authorization.Any(v => v?.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) == true) =>
            new("TOKEN_MISSING", AuthorizationDefaults.TokenRequired),
        null => new("TOKEN_MALFORMED", "The bearer token is not a JSON Web Token."),
        SecurityTokenExpiredException e => new("TOKEN_EXPIRED",
            $"The token expired at {e.Expires.ToString("u", CultureInfo.InvariantCulture)}: sign in again (or refresh it)."),
        SecurityTokenNotYetValidException e => new("TOKEN_NOT_YET_VALID",
            $"The token is not valid before {e.NotBefore.ToString("u", CultureInfo.InvariantCulture)}: check this device's clock."),
        SecurityTokenNoExpirationException => new("TOKEN_NO_EXPIRY", "The token has no expiry (exp): Vigil accepts only tokens that expire."),
        SecurityTokenInvalidIssuerException e => new("TOKEN_WRONG_ISSUER",
            $"The token was issued by '{Sanitize(e.InvalidIssuer ?? "")}', not by the identity provider Vigil trusts."),
        SecurityTokenInvalidAudienceException => new("TOKEN_WRONG_AUDIENCE",
            $"The token is meant for '{Sanitize(string.Join(", ", Token(request)?.Audiences ?? []))}', not for Vigil: ask the provider for a token with Vigil's audience."),
        SecurityTokenInvalidAlgorithmException e => new("TOKEN_ALGORITHM_REFUSED",
            $"The token is signed with {(e.InvalidAlgorithm is { } a ? Sanitize(a) : "an algorithm")} Vigil does not accept (only the provider's asymmetric keys)."),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException when Token(request)?.Alg is { } alg && alg.StartsWith("HS", StringComparison.OrdinalIgnoreCase) =>
            new("TOKEN_ALGORITHM_REFUSED", $"The token is signed with {Sanitize(alg)} (a shared secret): Vigil accepts only the provider's asymmetric signatures."),
        SecurityTokenSignatureKeyNotFoundException => IsUnsigned(request)
            ? Unsigned
            : new("TOKEN_UNKNOWN_KEY", $"The token is signed with a key{KeyId(request)} the identity provider does not publish."),
        SecurityTokenInvalidSignatureException => IsUnsigned(request)
            ? Unsigned
            : new("TOKEN_SIGNATURE_INVALID", $"The token's signature does not verify with the provider's key{KeyId(request)}."),
        SecurityTokenMalformedException or ArgumentException => new("TOKEN_MALFORMED", "The bearer token is not a JSON Web Token."),
        InvalidOperationException => new("PROVIDER_UNAVAILABLE", "The identity provider's keys could not be read yet: try again shortly."),
        _ => new("TOKEN_INVALID", AuthorizationDefaults.TokenRequired),
    };

    private static readonly Refusal Unsigned = new("TOKEN_UNSIGNED", "The token is not signed: Vigil accepts only tokens signed by the identity provider.");

    private static JsonWebToken? Token(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        try { return new JsonWebToken(header["Bearer ".Length..].Trim()); }
        catch (ArgumentException) { return null; }
    }

    private static bool IsUnsigned(HttpRequest request) =>
        Token(request) is { } token && (token.Alg is null or "" || token.Alg.Equals("none", StringComparison.OrdinalIgnoreCase) || token.EncodedSignature.Length == 0);

    private static string KeyId(HttpRequest request) =>
        Token(request) is { Kid: { Length: > 0 } kid } ? $" (kid '{Sanitize(kid)}')" : " (no kid)";

    private static string Sanitize(string value) =>
        new(value.Take(100).Select(c => c is >= ' ' and <= '~' and not '\'' ? c : '?').ToArray());
}
