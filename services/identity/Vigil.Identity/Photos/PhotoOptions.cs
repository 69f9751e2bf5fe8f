using System.ComponentModel.DataAnnotations;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.Identity.Photos;

/// <summary>Photo limits, checks, storage and encryption, bound from the "Photos" section.</summary>
internal sealed class PhotoOptions : IValidatableObject
{
    public const string Section = "Photos";

    /// <summary>The largest upload accepted, in bytes (ResourceExhausted past it). Default 10 MiB.</summary>
    [Range(1024, 256L * 1024 * 1024)]
    public long MaxUploadBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>The largest pixel count a header may declare; refused before decoding (decompression bombs). Default 40 MP.</summary>
    [Range(1L, 500_000_000L)]
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>The minimum length of the short side of the (oriented) image. Default 480.</summary>
    [Range(16, 10_000)]
    public int MinShortSide { get; set; } = 480;

    /// <summary>The minimum length of the long side. Default 640.</summary>
    [Range(16, 10_000)]
    public int MinLongSide { get; set; } = 640;

    /// <summary>Stored copies are scaled down to this long side at most. Default 2048.</summary>
    [Range(256, 8192)]
    public int StoredMaxLongSide { get; set; } = 2048;

    /// <summary>JPEG quality of the stored copy. Default 88.</summary>
    [Range(50, 100)]
    public int StoredJpegQuality { get; set; } = 88;

    /// <summary>
    /// How long photos (and verification records) are kept after they are taken, applied as a Redis TTL, when no board
    /// decision comes (an exam never reviewed, a verification without an exam). Default 180 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(180);

    /// <summary>
    /// The appeal window: once the exam board decides on the exam, its photos are kept until the decision plus this,
    /// then deleted (sooner or later than <see cref="Retention"/>; a later decision, a withdrawal, moves it on, an older
    /// one redelivered never back). Default 60 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan AppealWindow { get; set; } = TimeSpan.FromDays(60);

    // Picture quality, on the analysis copy (long side 512): see PhotoInspector.Judge and docs/identity.md, "Photo quality".

    /// <summary>Luminance spread (98th minus 2nd percentile) under which a photo is blank (one flat colour). Default 8.</summary>
    [Range(0, 255)]
    public double MinLuminanceSpread { get; set; } = 8;

    /// <summary>Bright end (98th percentile of the tiles' maxima) under which a photo is too dark: even its brightest parts are dark. Default 40.</summary>
    [Range(0, 255)]
    public double MinBrightEnd { get; set; } = 40;

    /// <summary>Dark end (2nd percentile of the tiles' minima) over which a photo is overexposed: glare lifted even its darkest print. Default 150.</summary>
    [Range(0, 255)]
    public double MaxDarkEnd { get; set; } = 150;

    /// <summary>Share of clipped white (≥ 250) over which a photo with hardly any detail left is overexposed (blown out). Default 0.3.</summary>
    [Range(0.0, 1.0)]
    public double BlownClippedShare { get; set; } = 0.3;

    /// <summary>Share of 16x16 tiles with local contrast under which a photo shows hardly anything (blurred, or blown out when clipped). Default 0.02.</summary>
    [Range(0.0, 1.0)]
    public double MinDetailShare { get; set; } = 0.02;

    /// <summary>
    /// Edge sharpness (0-1, about 0.28 / the blur's sigma in analysis pixels, independent of contrast) under which a photo is
    /// blurred. Default 0.12 (an edge spread over more than about 8 analysis pixels).
    /// </summary>
    [Range(0.0, 1.0)]
    public double MinEdgeSharpness { get; set; } = 0.12;

    /// <summary>Perceptual-hash Hamming distance (of 64 bits) at or under which two photos are near-duplicates. Default 10.</summary>
    [Range(0, 64)]
    public int NearDuplicateMaxDistance { get; set; } = 10;

    /// <summary>How many photos are decoded at once (bounds memory). Default: the processor count.</summary>
    [Range(1, 256)]
    public int MaxConcurrentDecodes { get; set; } = Environment.ProcessorCount;

    /// <summary>The encryption keys at rest; old ones stay listed to read photos stored under them.</summary>
    public List<PhotoKey> EncryptionKeys { get; set; } = [];

    /// <summary>The key id new photos are encrypted with.</summary>
    public string ActiveKeyId { get; set; } = string.Empty;

    /// <summary>Key ids of the keys shipped in appsettings.Development.json and appsettings.Testing.json: public, refused anywhere else.</summary>
    public static readonly IReadOnlySet<string> NonProductionKeyIds = new HashSet<string>(["dev-only-1", "testing-only-1"], StringComparer.Ordinal);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinShortSide > MinLongSide)
        {
            yield return new ValidationResult("Photos:MinShortSide must not exceed Photos:MinLongSide.", [nameof(MinShortSide)]);
        }
        if (MinBrightEnd >= MaxDarkEnd)
        {
            yield return new ValidationResult("Photos:MinBrightEnd must be below Photos:MaxDarkEnd.", [nameof(MinBrightEnd)]);
        }
        if (EncryptionKeys.Count == 0)
        {
            yield return new ValidationResult(
                "Photos:EncryptionKeys is empty: configure at least one AES-256 key ({KeyId, Key: base64 of 32 bytes}) and Photos:ActiveKeyId. Photos are never stored unencrypted.",
                [nameof(EncryptionKeys)]);
            yield break;
        }
        var developmentLike = validationContext.IsDevelopmentLike();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in EncryptionKeys)
        {
            if (string.IsNullOrWhiteSpace(key.KeyId) || key.KeyId.Length > 64 || key.KeyId.Any(c => c > 0x7E || c < 0x21))
            {
                yield return new ValidationResult("Every Photos:EncryptionKeys entry needs a KeyId of 1-64 printable ASCII characters.", [nameof(EncryptionKeys)]);
                continue;
            }
            if (!ids.Add(key.KeyId))
            {
                yield return new ValidationResult($"Photos:EncryptionKeys lists key id '{key.KeyId}' twice.", [nameof(EncryptionKeys)]);
            }
            if (!developmentLike && NonProductionKeyIds.Contains(key.KeyId))
            {
                yield return new ValidationResult($"Photos:EncryptionKeys '{key.KeyId}' is a development/testing key outside Development and Testing (it is public in the repository): configure a real key.", [nameof(EncryptionKeys)]);
            }
            if (key.TryGetBytes() is null)
            {
                // Never echo the key itself.
                yield return new ValidationResult($"Photos:EncryptionKeys '{key.KeyId}': Key must be base64 of exactly 32 bytes.", [nameof(EncryptionKeys)]);
            }
        }
        if (!ids.Contains(ActiveKeyId))
        {
            yield return new ValidationResult("Photos:ActiveKeyId must name one of Photos:EncryptionKeys.", [nameof(ActiveKeyId)]);
        }
    }
}

/// <summary>One AES-256 key with its id (written next to every ciphertext, for rotation).</summary>
internal sealed class PhotoKey
{
    public string KeyId { get; set; } = string.Empty;

    /// <summary>Base64 of 32 random bytes. Never logged.</summary>
    public string Key { get; set; } = string.Empty;

    public byte[]? TryGetBytes()
    {
        try
        {
            var bytes = Convert.FromBase64String(Key);
            return bytes.Length == 32 ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
