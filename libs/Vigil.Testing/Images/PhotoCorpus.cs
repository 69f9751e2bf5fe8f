using System.Reflection;
using SkiaSharp;
using Vigil.Contracts.Identity.V1;
using Vigil.SamplePhotos;

namespace Vigil.Testing.Images;

/// <summary>What a person looking at a photo expects the identity service to answer.</summary>
public enum Expectation
{
    /// <summary>Usable: a legible document, a recognisable face, an ordinary picture. Must be ACCEPTED.</summary>
    Accept,

    /// <summary>Unusable as a picture (dark, washed out, blurred, blank, too small): REJECTED with one of the reasons listed.</summary>
    Reject,

    /// <summary>Not a readable image file (cut short): refused as a file (InvalidArgument).</summary>
    RefuseFile,
}

/// <summary>One photo of the corpus: its name, group, the answer a person expects, the acceptable problem codes when rejected, what it shows.</summary>
public sealed class CorpusPhoto(string name, string group, Expectation expected, PhotoProblemCode[] reasons, PhotoKind kind, string what, Func<byte[]> make, string? knownMiss = null)
{
    private readonly Lazy<byte[]> _bytes = new(make);

    public string Name { get; } = name;

    public string Group { get; } = group;

    public Expectation Expected { get; } = expected;

    /// <summary>For <see cref="Expectation.Reject"/>: the problem codes a correct rejection may name.</summary>
    public IReadOnlyList<PhotoProblemCode> Reasons { get; } = reasons;

    /// <summary>The step the photo belongs to: documents at the ID step, portraits at the face step.</summary>
    public PhotoKind Kind { get; } = kind;

    public string What { get; } = what;

    /// <summary>Why the service accepts this unusable photo, when it is a documented limitation (counted as a false acceptance).</summary>
    public string? KnownMiss { get; } = knownMiss;

    public byte[] Bytes => _bytes.Value;

    public override string ToString() => Name;
}

/// <summary>
/// The photo-quality corpus: real photographs from Debian's packages (<c>Images/Corpus/SOURCES.md</c>), drawn
/// documents of four colours under several exposures, framings and file formats, webcam portraits, scans, phone
/// photos turned by EXIF, and the known-bad (dark, washed out, blurred, blank, tiny, cut short). Each photo carries the
/// answer a person looking at it expects; <see cref="Score"/> counts the false refusals and false acceptances.
/// </summary>
public static class PhotoCorpus
{
    public const string RealPortraits = "Real portraits";
    public const string RealScenes = "Real scenes";
    public const string RealDocuments = "Real documents and scans";
    public const string DrawnDocuments = "Drawn documents (4 colours x 2 layouts x 4 exposures, desk, scan)";
    public const string Formats = "Formats and phones (EXIF, 16-bit, alpha, CMYK, progressive, 4000x3000)";
    public const string DrawnPortraits = "Drawn webcam portraits";
    public const string BadReal = "Known bad: real photographs";
    public const string BadDrawn = "Known bad: drawn";

    /// <summary>One stop over: the white of a light document clips, its print stays crisp (the photo of issue 13).</summary>
    public static Camera Bright { get; } = Camera.Phone with { ExposureEv = 1 };

    /// <summary>A dim room: a stop and a half under, more noise.</summary>
    public static Camera Dim { get; } = Camera.Phone with { ExposureEv = -1.5, Noise = 4 };

    /// <summary>A dark room: three stops under, noisy; dark but legible.</summary>
    public static Camera Dark3 { get; } = Camera.Phone with { ExposureEv = -3, Noise = 5 };

    private static readonly PhotoProblemCode[] Dark = [PhotoProblemCode.TooDark];
    private static readonly PhotoProblemCode[] Washed = [PhotoProblemCode.Overexposed];
    private static readonly PhotoProblemCode[] Blur = [PhotoProblemCode.Blurred];
    private static readonly PhotoProblemCode[] Small = [PhotoProblemCode.TooSmall];
    private static readonly PhotoProblemCode[] None = [];

    private static readonly Lazy<IReadOnlyList<CorpusPhoto>> Photos = new(Build);

    /// <summary>Every photo, in a stable order.</summary>
    public static IReadOnlyList<CorpusPhoto> All => Photos.Value;

    /// <summary>The photo named <paramref name="name"/>.</summary>
    public static CorpusPhoto Get(string name) => All.Single(p => p.Name == name);

    /// <summary>A committed corpus file (embedded in this assembly), e.g. <c>real-astronaut.jpg</c>.</summary>
    public static byte[] File(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("corpus/" + name)
            ?? throw new FileNotFoundException("Not in the photo corpus: " + name);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static IReadOnlyList<CorpusPhoto> Build()
    {
        var list = new List<CorpusPhoto>();
        void Add(string name, string group, Expectation expected, PhotoProblemCode[] reasons, PhotoKind kind, string what, Func<byte[]> make, string? knownMiss = null) =>
            list.Add(new CorpusPhoto(name, group, expected, reasons, kind, what, make, knownMiss));
        const PhotoKind Id = PhotoKind.IdDocument, Face = PhotoKind.Face;
        const Expectation Ok = Expectation.Accept, No = Expectation.Reject;

        // ---- real photographs (SOURCES.md) ----
        Add("real-astronaut", RealPortraits, Ok, None, Face, "studio portrait, NASA", () => File("real-astronaut.jpg"));
        Add("real-grace-hopper", RealPortraits, Ok, None, Face, "official portrait, US Navy", () => File("real-grace-hopper.jpg"));
        Add("real-grace-hopper-cmyk", RealPortraits, Ok, None, Face, "the same, CMYK JPEG", () => File("real-grace-hopper-cmyk.jpg"));
        Add("real-cameraman", RealPortraits, Ok, None, Face, "a man behind a camera, greyscale JPEG", () => File("real-cameraman.jpg"));
        Add("real-grace-hopper-exif6", RealPortraits, Ok, None, Face, "stored turned, EXIF orientation 6", () => Turned(File("real-grace-hopper.jpg"), 6));
        Add("real-astronaut-exif8", RealPortraits, Ok, None, Face, "stored turned, EXIF orientation 8", () => Turned(File("real-astronaut.jpg"), 8));
        Add("real-astronaut-png16", RealPortraits, Ok, None, Face, "16-bit PNG", () => Png16(File("real-astronaut.jpg")));
        Add("real-coffee", RealScenes, Ok, None, Id, "a cup on a wooden table", () => File("real-coffee.jpg"));
        Add("real-coffee-progressive", RealScenes, Ok, None, Id, "the same, progressive JPEG", () => File("real-coffee-progressive.jpg"));
        Add("real-chelsea", RealScenes, Ok, None, Id, "a cat", () => File("real-chelsea.jpg"));
        Add("real-rocket-at-dusk", RealScenes, Ok, None, Id, "a rocket at dusk: dark sky, bright lamps", () => File("real-rocket-at-dusk.jpg"));
        Add("real-book-page", RealDocuments, Ok, None, Id, "a photographed book page, uneven light", () => File("real-book-page.jpg"));
        Add("real-handwriting", RealDocuments, Ok, None, Id, "handwriting on paper at an angle, partly out of focus", () => File("real-handwriting.jpg"));
        Add("real-text-scan", RealDocuments, Ok, None, Id, "a scanned text page (PNG, white = 255)", () => File("real-text-scan.png"));

        // ---- drawn documents: four colours, two layouts, three exposures; a desk; scans ----
        foreach (var style in Enum.GetValues<DocumentStyle>())
        {
            foreach (var layout in Enum.GetValues<DocumentLayout>())
            {
                var scene = new DocumentScene(layout, style, Framing.FillsFrame);
                var tag = $"{Tag(style)}-{(layout == DocumentLayout.IdCard ? "card" : "passport")}";
                var seed = 100 + (int)style + (10 * (int)layout);
                Add($"drawn-{tag}", DrawnDocuments, Ok, None, Id, "fills the frame, correct exposure", () => Doc(scene, seed, Camera.Phone));
                Add($"drawn-{tag}-bright", DrawnDocuments, Ok, None, Id, "one stop over: light paper clips, print crisp", () => Doc(scene, seed, Bright));
                Add($"drawn-{tag}-dim", DrawnDocuments, Ok, None, Id, "a stop and a half under, noisier", () => Doc(scene, seed, Dim));
                Add($"drawn-{tag}-dark", DrawnDocuments, Ok, None, Id, "three stops under and noisy: dark, still legible", () => Doc(scene, seed, Dark3));
            }
            var desk = new DocumentScene(DocumentLayout.IdCard, style, Framing.OnDesk);
            Add($"drawn-{Tag(style)}-card-on-desk", DrawnDocuments, Ok, None, Id, "on a desk, 60 % of the frame", () => Doc(desk, 120 + (int)style, Camera.Phone));
        }
        Add("drawn-white-card-scan-a4", DrawnDocuments, Ok, None, Id, "flatbed scan of a whole A4 page, 150 dpi, card in a corner", () =>
            Jpeg(Camera.Scanner.Shoot(DrawnPhotos.Document(new(DocumentLayout.IdCard, DocumentStyle.White, Framing.Scan), 130, 1240, 1754), 130)));
        Add("drawn-pastel-passport-scan-a4", DrawnDocuments, Ok, None, Id, "flatbed scan of a whole A4 page, 150 dpi, PNG", () =>
            Png(Camera.Scanner.Shoot(DrawnPhotos.Document(new(DocumentLayout.PassportPage, DocumentStyle.Pastel, Framing.Scan), 131, 1240, 1754), 131)));

        // ---- the same documents in the files phones and scanners write ----
        var white = new DocumentScene(DocumentLayout.IdCard, DocumentStyle.White, Framing.FillsFrame);
        Add("drawn-white-card-bright-progressive", Formats, Ok, None, Id, "white card one stop over, progressive JPEG (ImageMagick)", () => File("drawn-white-card-bright-progressive.jpg"));
        Add("drawn-white-card-bright-cmyk", Formats, Ok, None, Id, "white card one stop over, CMYK JPEG (ImageMagick)", () => File("drawn-white-card-bright-cmyk.jpg"));
        Add("drawn-pastel-passport-progressive", Formats, Ok, None, Id, "pastel passport page, progressive JPEG (ImageMagick)", () => File("drawn-pastel-passport-progressive.jpg"));
        Add("drawn-white-card-bright-png", Formats, Ok, None, Id, "white card one stop over, 8-bit PNG", () => Png(Shot(white, 100, Bright)));
        Add("drawn-white-card-bright-png16", Formats, Ok, None, Id, "white card one stop over, 16-bit PNG", () => Png16(Shot(white, 100, Bright)));
        Add("drawn-white-card-cutout-alpha", Formats, Ok, None, Id, "white card cut out by a scanning app, PNG with transparent corners", () =>
            Png(DrawnPhotos.CutOut(DocumentLayout.IdCard, DocumentStyle.White, 140, 1000, Bright)));
        Add("drawn-dark-card-cutout-alpha", Formats, Ok, None, Id, "dark card cut out, PNG with transparent corners", () =>
            Png(DrawnPhotos.CutOut(DocumentLayout.IdCard, DocumentStyle.Dark, 141, 1000, Camera.Phone)));
        Add("drawn-white-card-bright-phone-exif6", Formats, Ok, None, Id, "4000x3000 phone photo stored turned, EXIF 6", () => Phone(white, 142, Bright, 6));
        Add("drawn-patterned-passport-phone-exif8", Formats, Ok, None, Id, "4000x3000 phone photo stored turned, EXIF 8", () =>
            Phone(new(DocumentLayout.PassportPage, DocumentStyle.Patterned, Framing.FillsFrame), 143, Camera.Phone, 8));
        Add("drawn-pastel-card-exif3", Formats, Ok, None, Id, "stored upside down, EXIF 3", () =>
            Exif(Shot(new(DocumentLayout.IdCard, DocumentStyle.Pastel, Framing.OnDesk), 144, Camera.Phone), 3));

        // ---- drawn webcam portraits ----
        foreach (var (seed, w, h) in new[] { (0, 640, 480), (1, 800, 600), (2, 1280, 720), (3, 640, 480), (4, 800, 600), (5, 1280, 720) })
        {
            Add($"drawn-portrait-{seed}-{w}x{h}", DrawnPortraits, Ok, None, Face, "laptop webcam, lit room", () => Jpeg(Camera.Webcam.Shoot(DrawnPhotos.Portrait(seed, w, h), seed), 85));
        }
        Add("drawn-portrait-6-dim-room", DrawnPortraits, Ok, None, Face, "webcam in a dim room: a stop and a half under, noisy", () =>
            Jpeg((Camera.Webcam with { ExposureEv = -1.5, Noise = 6 }).Shoot(DrawnPhotos.Portrait(6, 640, 480), 6), 85));
        Add("drawn-portrait-8-window-behind", DrawnPortraits, Ok, None, Face, "a window behind the person, the room lit: the face dimmer but clear", () =>
            Jpeg((Camera.Webcam with { ExposureEv = 0.5 }).Shoot(DrawnPhotos.Portrait(11, 640, 480, PortraitLight.WindowBehind), 11), 85));
        Add("drawn-portrait-7-phone-exif6", DrawnPortraits, Ok, None, Face, "phone selfie stored turned, EXIF 6", () =>
            Exif(Camera.Phone.Shoot(DrawnPhotos.Portrait(7, 1600, 1200), 7), 6));

        // ---- known bad: real photographs ----
        Add("real-clock-motion-blur", BadReal, No, Blur, Id, "a clock shot while the camera moved", () => File("real-clock-motion-blur.jpg"));
        Add("real-chelsea-thumbnail", BadReal, No, Small, Id, "a 451x300 thumbnail", () => File("real-chelsea-thumbnail.jpg"));
        Add("real-astronaut-very-dark", BadReal, No, Dark, Face, "seven and a half stops under, with the noise that brings", () => Retake(File("real-astronaut.jpg"), TestImages.VeryDark));
        Add("real-grace-hopper-washed-out", BadReal, No, Washed, Face, "two and a half stops over with strong glare", () => Retake(File("real-grace-hopper.jpg"), TestImages.WashedOut));
        Add("real-coffee-out-of-focus", BadReal, No, Blur, Id, "badly out of focus", () => Retake(File("real-coffee.jpg"), TestImages.OutOfFocus));
        Add("real-astronaut-shaken", BadReal, No, Blur, Face, "the camera moved during the shot", () => Retake(File("real-astronaut.jpg"), TestImages.Shaken));
        Add("real-astronaut-half-file", BadReal, Expectation.RefuseFile, None, Face, "the upload stopped halfway", () => TestImages.Cut(File("real-astronaut.jpg"), 0.5));

        // ---- known bad: drawn ----
        foreach (var style in Enum.GetValues<DocumentStyle>())
        {
            var scene = new DocumentScene(DocumentLayout.IdCard, style, Framing.FillsFrame);
            var seed = 150 + (int)style;
            Add($"drawn-{Tag(style)}-card-very-dark", BadDrawn, No, Dark, Id, "seven and a half stops under, noisy", () => Doc(scene, seed, TestImages.VeryDark));
            Add($"drawn-{Tag(style)}-card-washed-out", BadDrawn, No, Washed, Id, "two and a half stops over, strong glare: the print fades into white", () => Doc(scene, seed, TestImages.WashedOut));
            Add($"drawn-{Tag(style)}-card-out-of-focus", BadDrawn, No, Blur, Id, "badly out of focus", () => Doc(scene, seed, TestImages.OutOfFocus));
            Add($"drawn-{Tag(style)}-card-shaken", BadDrawn, No, Blur, Id, "the phone moved during the shot", () => Doc(scene, seed, TestImages.Shaken));
        }
        Add("drawn-portrait-backlit", BadDrawn, No, Dark, Face, "a bright window behind the person and no other light: a silhouette", () =>
            Jpeg((Camera.Webcam with { ExposureEv = 1 }).Shoot(DrawnPhotos.Portrait(8, 640, 480, PortraitLight.Backlit), 8), 85),
            knownMiss: "the picture is exposed, sharp and detailed (window, room, outline); the rules do not judge how dark a face or clothes are, "
                + "which would refuse dark skin and dark clothes in front of a window");
        Add("drawn-portrait-very-dark", BadDrawn, No, Dark, Face, "webcam in the dark", () => Jpeg((Camera.Webcam with { ExposureEv = -7.5, Noise = 8 }).Shoot(DrawnPhotos.Portrait(9, 640, 480), 9), 85));
        Add("drawn-portrait-out-of-focus", BadDrawn, No, Blur, Face, "webcam badly out of focus", () => Jpeg((Camera.Webcam with { FocusBlur = 8 }).Shoot(DrawnPhotos.Portrait(10, 640, 480), 10), 85));
        Add("black-frame", BadDrawn, No, [PhotoProblemCode.Blank, PhotoProblemCode.TooDark], Face, "black, a little sensor noise", () => TestImages.Flat(SKColors.Black, 2));
        Add("white-frame", BadDrawn, No, [PhotoProblemCode.Blank, PhotoProblemCode.Overexposed], Id, "white", () => TestImages.Flat(SKColors.White, 0));
        Add("grey-frame", BadDrawn, No, [PhotoProblemCode.Blank], Id, "one flat grey", () => TestImages.BlankJpeg());
        Add("covered-lens", BadDrawn, No, [PhotoProblemCode.Blank, PhotoProblemCode.TooDark], Face, "a finger over the lens: dark brown, noisy", () => TestImages.Flat(new SKColor(40, 22, 16), 5));
        Add("drawn-card-tiny", BadDrawn, No, Small, Id, "200x150", () => TestImages.TinyJpeg(2));
        Add("drawn-card-half-jpeg", BadDrawn, Expectation.RefuseFile, None, Id, "JPEG cut at 60 %", () => TestImages.TruncatedJpeg(3));
        Add("drawn-card-half-png", BadDrawn, Expectation.RefuseFile, None, Id, "PNG cut at 60 %", () => TestImages.TruncatedPng(1));
        return list;
    }

    private static string Tag(DocumentStyle style) => style.ToString().ToLowerInvariant();

    private static SKBitmap Shot(DocumentScene scene, int seed, Camera camera, int width = TestImages.Width, int height = TestImages.Height) =>
        camera.Shoot(DrawnPhotos.Document(scene, seed, width, height), seed);

    private static byte[] Doc(DocumentScene scene, int seed, Camera camera) => Jpeg(Shot(scene, seed, camera));

    private static byte[] Phone(DocumentScene scene, int seed, Camera camera, ushort orientation) => Exif(Shot(scene, seed, camera, 4000, 3000), orientation);

    private static byte[] Exif(SKBitmap upright, ushort orientation)
    {
        using (upright)
        {
            using var stored = PhotoFiles.StoredFor(upright, orientation);
            return PhotoFiles.WithExif(PhotoFiles.Jpeg(stored, 92), orientation, "VigilCorpusPhone");
        }
    }

    private static byte[] Jpeg(SKBitmap bitmap, int quality = 90) => TestImages.Jpeg(bitmap, quality);

    private static byte[] Png(SKBitmap bitmap) => TestImages.Png(bitmap);

    private static SKBitmap Decode(byte[] file)
    {
        using var source = SKBitmap.Decode(file) ?? throw new InvalidDataException("Cannot decode a corpus file.");
        var bitmap = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.DrawBitmap(source, 0, 0);
        return bitmap;
    }

    private static byte[] Turned(byte[] file, ushort orientation) => Exif(Decode(file), orientation);

    private static byte[] Png16(byte[] file)
    {
        using var bitmap = Decode(file);
        return PhotoFiles.Png16(bitmap);
    }

    private static byte[] Png16(SKBitmap bitmap)
    {
        using (bitmap) return PhotoFiles.Png16(bitmap);
    }

    /// <summary>A real photo taken again with <paramref name="camera"/>'s faults (its focus and noise on top of the photo's own).</summary>
    private static byte[] Retake(byte[] file, Camera camera) => Jpeg((camera with { Vignette = 0 }).Shoot(Decode(file), 7));
}
