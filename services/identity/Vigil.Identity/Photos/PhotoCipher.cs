using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Vigil.Identity.Photos;

/// <summary>
/// AES-256-GCM at rest. A blob is: version (1 byte, 1), key-id length (1 byte), key id (ASCII), nonce (12),
/// tag (16), ciphertext. The associated data binds a blob to its owner and place (learner, exam, kind, photo
/// id), so a blob copied elsewhere does not decrypt. Old keys stay configured to read old blobs (rotation).
/// </summary>
internal sealed class PhotoCipher
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly Dictionary<string, byte[]> _keys;
    private readonly string _activeKeyId;

    public PhotoCipher(IOptions<PhotoOptions> options)
    {
        _keys = options.Value.EncryptionKeys
            .Select(k => (k.KeyId, Bytes: k.TryGetBytes()))
            .Where(k => k.Bytes is not null)
            .ToDictionary(k => k.KeyId, k => k.Bytes!, StringComparer.Ordinal);
        _activeKeyId = options.Value.ActiveKeyId;
    }

    public string ActiveKeyId => _activeKeyId;

    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, string associatedData)
    {
        if (!_keys.TryGetValue(_activeKeyId, out var key)) throw new InvalidOperationException("The active photo key is not configured.");
        var id = Encoding.ASCII.GetBytes(_activeKeyId);
        var blob = new byte[2 + id.Length + NonceSize + TagSize + plaintext.Length];
        blob[0] = Version;
        blob[1] = (byte)id.Length;
        id.CopyTo(blob, 2);
        var offset = 2 + id.Length;
        var nonce = blob.AsSpan(offset, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var tag = blob.AsSpan(offset + NonceSize, TagSize);
        var ciphertext = blob.AsSpan(offset + NonceSize + TagSize);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, Encoding.UTF8.GetBytes(associatedData));
        return blob;
    }

    /// <summary>Decrypts a blob; throws <see cref="CryptographicException"/> when the key is unknown or the blob was altered or moved.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> blob, string associatedData)
    {
        if (blob.Length < 2 || blob[0] != Version) throw new CryptographicException("Unknown photo blob version.");
        int idLength = blob[1];
        if (blob.Length < 2 + idLength + NonceSize + TagSize) throw new CryptographicException("Photo blob too short.");
        var keyId = Encoding.ASCII.GetString(blob.Slice(2, idLength));
        if (!_keys.TryGetValue(keyId, out var key)) throw new CryptographicException($"Photo key '{keyId}' is not configured.");
        var offset = 2 + idLength;
        var nonce = blob.Slice(offset, NonceSize);
        var tag = blob.Slice(offset + NonceSize, TagSize);
        var ciphertext = blob[(offset + NonceSize + TagSize)..];
        var plaintext = new byte[ciphertext.Length];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(nonce, ciphertext, tag, plaintext, Encoding.UTF8.GetBytes(associatedData));
        return plaintext;
    }

    /// <summary>The key id a blob was written with.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> blob) =>
        blob.Length >= 2 && blob.Length >= 2 + blob[1] ? Encoding.ASCII.GetString(blob.Slice(2, blob[1])) : string.Empty;
}
