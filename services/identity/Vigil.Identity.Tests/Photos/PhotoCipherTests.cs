using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Vigil.Identity.Photos;
using Vigil.Testing.Images;

namespace Vigil.Identity.Tests.Photos;

public sealed class PhotoCipherTests
{
    private static PhotoKey Key(string id) => new() { KeyId = id, Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) };

    private static PhotoCipher Cipher(string active, params PhotoKey[] keys) =>
        new(Options.Create(new PhotoOptions { EncryptionKeys = [.. keys], ActiveKeyId = active }));

    [Fact]
    public void A_photo_round_trips_and_the_blob_names_its_key()
    {
        var k1 = Key("k1");
        var cipher = Cipher("k1", k1);
        var photo = TestImages.IdDocumentJpeg();
        var blob = cipher.Encrypt(photo, "aad");
        Assert.Equal("k1", PhotoCipher.KeyIdOf(blob));
        Assert.Equal(photo, cipher.Decrypt(blob, "aad"));
        Assert.NotEqual(blob, cipher.Encrypt(photo, "aad")); // fresh nonce every time
    }

    [Fact]
    public void After_rotation_old_photos_still_read_and_new_ones_use_the_new_key()
    {
        var k1 = Key("k1");
        var k2 = Key("k2");
        var old = Cipher("k1", k1).Encrypt([1, 2, 3], "aad");
        var rotated = Cipher("k2", k1, k2);
        Assert.Equal([1, 2, 3], rotated.Decrypt(old, "aad"));
        Assert.Equal("k2", PhotoCipher.KeyIdOf(rotated.Encrypt([4], "aad")));
        // Once k1 is removed, its blobs are unreadable (crypto-erasure of a retired key).
        Assert.ThrowsAny<CryptographicException>(() => Cipher("k2", k2).Decrypt(old, "aad"));
    }

    [Fact]
    public void A_tampered_or_moved_blob_does_not_decrypt()
    {
        var cipher = Cipher("k1", Key("k1"));
        var blob = cipher.Encrypt([1, 2, 3, 4, 5], "learner-a|exam|ID|ph_1");
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt(blob, "learner-b|exam|ID|ph_1"));
        blob[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt(blob, "learner-a|exam|ID|ph_1"));
    }

    [Fact]
    public void Options_without_a_key_or_with_a_bad_key_are_refused()
    {
        static List<string> Errors(PhotoOptions o) =>
            o.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(o)).Select(r => r.ErrorMessage!).ToList();
        Assert.Contains(Errors(new PhotoOptions()), e => e.Contains("EncryptionKeys is empty", StringComparison.Ordinal));
        Assert.Contains(Errors(new PhotoOptions { EncryptionKeys = [new PhotoKey { KeyId = "k", Key = Convert.ToBase64String(new byte[16]) }], ActiveKeyId = "k" }),
            e => e.Contains("32 bytes", StringComparison.Ordinal));
        Assert.Contains(Errors(new PhotoOptions { EncryptionKeys = [Key("k")], ActiveKeyId = "other" }), e => e.Contains("ActiveKeyId", StringComparison.Ordinal));
        Assert.Empty(Errors(new PhotoOptions { EncryptionKeys = [Key("k")], ActiveKeyId = "k" }));
        // The key itself never appears in a message.
        var secret = Key("k");
        secret.Key = "not-base64-" + secret.Key;
        Assert.All(Errors(new PhotoOptions { EncryptionKeys = [secret], ActiveKeyId = "k" }), e => Assert.DoesNotContain(secret.Key, e, StringComparison.Ordinal));
    }
}
