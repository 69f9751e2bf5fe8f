using Microsoft.Extensions.Options;
using Vigil.Identity.Photos;
using Vigil.Testing.Images;

namespace Vigil.Identity.Tests.Photos;

/// <summary>Mutated photos (seeded): the inspector gives a verdict or a file refusal, nothing else.</summary>
public sealed class PhotoFuzzTests
{
    private static readonly PhotoInspector Inspector = new(Options.Create(new PhotoOptions()));

    [Fact]
    public async Task Mutated_jpeg_and_png_get_a_verdict_or_a_file_refusal()
    {
        var rnd = new Random(20261128);
        byte[][] seeds = [TestImages.IdDocumentJpeg(2), TestImages.FacePng(2), TestImages.JpegWithGps(1, 6)];
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 60; i++)
        {
            var input = (byte[])seeds[i % seeds.Length].Clone();
            var region = i % 3 == 0 ? input.Length : Math.Min(input.Length, 2048);
            var edits = 1 + rnd.Next(8);
            for (var e = 0; e < edits; e++)
            {
                var at = rnd.Next(region);
                input[at] = rnd.Next(4) switch
                {
                    0 => 0xFF,
                    1 => 0x00,
                    _ => (byte)rnd.Next(256),
                };
            }
            if (i % 10 == 9) input = input[..rnd.Next(input.Length)];
            string outcome;
            try
            {
                var photo = await Inspector.InspectAsync(input, CancellationToken.None);
                outcome = photo.Accepted ? "accepted" : "rejected";
            }
            catch (FileRefusedException ex)
            {
                // Every refusal comes from an explicit check, not from the safety net around the decoder.
                Assert.Null(ex.InnerException);
                outcome = ex.Refusal.ToString();
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        Assert.Equal(60, outcomes.Values.Sum());
    }
}
