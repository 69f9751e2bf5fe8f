namespace Vigil.SamplePhotos;

/// <summary>The kind of identity document.</summary>
public enum DocumentLayout
{
    /// <summary>An ID-1 card (85.6 x 54 mm): portrait, fields, a three-line machine-readable zone.</summary>
    IdCard,

    /// <summary>A passport's data page (125 x 88 mm): portrait, fields, a two-line machine-readable zone.</summary>
    PassportPage,
}

/// <summary>The document's background, as printed.</summary>
public enum DocumentStyle
{
    /// <summary>Plain white (most cards and data pages are light).</summary>
    White,

    /// <summary>A pastel gradient (pink to blue).</summary>
    Pastel,

    /// <summary>Dark blue with light print.</summary>
    Dark,

    /// <summary>Pale green with a fine guilloche (security) pattern and a rosette.</summary>
    Patterned,
}

/// <summary>How the document sits in the picture.</summary>
public enum Framing
{
    /// <summary>The document fills most of the frame, as the service asks (a slight tilt, a little desk around it).</summary>
    FillsFrame,

    /// <summary>The document lies on a desk, about 60 % of the frame wide, tilted, with a pen beside it.</summary>
    OnDesk,

    /// <summary>A flatbed scan: the document near a corner of a white page (the picture is the whole page).</summary>
    Scan,
}

/// <summary>A document photo to draw.</summary>
/// <param name="Layout">Card or passport page.</param>
/// <param name="Style">Its printed background.</param>
/// <param name="Framing">How it sits in the picture.</param>
public sealed record DocumentScene(DocumentLayout Layout = DocumentLayout.IdCard, DocumentStyle Style = DocumentStyle.White, Framing Framing = Framing.FillsFrame);

/// <summary>The light on a portrait.</summary>
public enum PortraitLight
{
    /// <summary>A lit room: a lamp or a window beside the person.</summary>
    Normal,

    /// <summary>A window behind the person, the room lit too: the face is dimmer than the window but clear.</summary>
    WindowBehind,

    /// <summary>A bright window right behind the person and no other light: the window burns out, the person is a silhouette.</summary>
    Backlit,
}
