using Vigil.SamplePhotos;

namespace Vigil.Cli.Images;

/// <summary>
/// Sample photos for the demo and for trying the client without a camera, drawn by <c>Vigil.SamplePhotos</c> (the same
/// ordinary photos as the tests and the benchmark): a pastel ID card filling the frame, taken with a phone, and a
/// laptop webcam's view of a person at a desk. 800x600 JPEG. Same seed, same bytes.
/// </summary>
internal static class SampleImages
{
    /// <summary>A photo of an ID document (the document, not a face).</summary>
    public static byte[] IdDocument(int seed = 1) => DrawnPhotos.IdDocumentJpeg(seed);

    /// <summary>A photo of a face.</summary>
    public static byte[] Face(int seed = 2) => DrawnPhotos.PortraitJpeg(seed);
}
