using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Vigil.Certificate.Signing;

/// <summary>
/// What a certificate's signature covers, as canonical JSON: UTF-8, no whitespace, these properties in
/// this order, the issue time as ISO 8601 UTC with milliseconds. Anyone can check the signature over
/// these exact bytes with the published public key.
/// </summary>
internal sealed record CertificatePayload(
    string CertificateId,
    string VerificationCode,
    string LearnerName,
    string ExamTitle,
    string CourseId,
    DateTimeOffset IssuedAt,
    string KeyId)
{
    public const int FormatVersion = 1;

    /// <summary>The canonical bytes.</summary>
    public byte[] ToCanonicalJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteNumber("v", FormatVersion);
            w.WriteString("alg", CertificateSigner.Algorithm);
            w.WriteString("kid", KeyId);
            w.WriteString("certificateId", CertificateId);
            w.WriteString("verificationCode", VerificationCode);
            w.WriteString("learnerName", LearnerName);
            w.WriteString("examTitle", ExamTitle);
            w.WriteString("courseId", CourseId);
            w.WriteString("issuedAt", IssuedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reads the verification code out of presented bytes; null when they are not a certificate payload.</summary>
    public static string? ReadVerificationCode(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("verificationCode", out var code)
                && code.ValueKind == JsonValueKind.String
                ? code.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Verification codes: 128 random bits, base32 (RFC 4648 alphabet, no padding), grouped by four with
/// dashes, e.g. "ABCD-EFGH-…" (26 characters, 7 groups). Compared case- and dash-insensitively.
/// </summary>
internal static class VerificationCodes
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var chars = new List<char>(26);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars.Add(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) chars.Add(Alphabet[(buffer << (5 - bits)) & 31]);
        return string.Join('-', chars.Chunk(4).Select(c => new string(c)));
    }

    /// <summary>The code in its canonical form (upper case, grouped), or null when it cannot be a code.</summary>
    public static string? Normalize(string? code)
    {
        if (code is null) return null;
        var chars = code.Where(c => c is not ('-' or ' ')).Select(char.ToUpperInvariant).ToArray();
        if (chars.Length != 26 || chars.Any(c => !Alphabet.Contains(c, StringComparison.Ordinal))) return null;
        return string.Join('-', chars.Chunk(4).Select(c => new string(c)));
    }
}
