using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using SkiaSharp;
using Vigil.Identity.Photos;
using Vigil.SamplePhotos;
using Vigil.Testing.Images;

namespace Vigil.Bench.Photos;

/// <summary>
/// <c>Vigil.Bench photo-stages [--seconds S] [--sizes 800x600,2048x1536,4000x3000] [--corpus [--write DIR]] [--export DIR]</c>: times each stage of
/// the identity service's photo check on the test photos, on the calling thread, with the service's own code
/// (its <c>Photos/</c> folder is compiled into the bench). Prints per-stage median and mean ms, whole checks/s
/// (inspection + encryption, as UploadPhoto does between receiving the bytes and writing Redis), the bare
/// decode + re-encode of the echo ceiling for the same bytes, managed bytes allocated per check, and the
/// metrics and hash (to see that the verdicts do not move). <c>--corpus</c> runs the photo-quality corpus and prints each
/// photo's verdict against the expected one, then the false refusals and acceptances (<c>--write</c> also saves each photo, to look at); <c>--export</c> writes the drawn
/// photos the corpus's prepare.sh converts.
/// </summary>
internal static class PhotoStages
{
    public static async Task<int> RunAsync(double seconds, IReadOnlyList<(int W, int H)> sizes, bool corpus, string? write, string? exportDir)
    {
        var options = new PhotoOptions
        {
            EncryptionKeys = [new PhotoKey { KeyId = "bench", Key = Convert.ToBase64String(new byte[32]) }],
            ActiveKeyId = "bench",
        };
        var inspector = new PhotoInspector(Options.Create(options));
        var cipher = new PhotoCipher(Options.Create(options));
        var photos = new List<(string Name, byte[] Data)>();
        foreach (var (w, h) in sizes)
        {
            photos.Add(($"id {w}x{h}", w == TestImages.Width && h == TestImages.Height ? TestImages.IdDocumentJpeg(1) : TestImages.IdDocumentJpeg(1, w, h)));
            if (w == TestImages.Width && h == TestImages.Height) photos.Add(($"face {w}x{h}", TestImages.FaceJpeg(1)));
        }
        if (exportDir is not null)
        {
            Export(exportDir);
            return 0;
        }
        if (corpus)
        {
            await CorpusAsync(inspector, write);
            return 0;
        }
        Console.WriteLine($"photo-stages: {Environment.ProcessorCount} processor(s), {seconds:0.#} s per photo and loop, one thread, .NET {Environment.Version}, SkiaSharp {typeof(SKBitmap).Assembly.GetName().Version}");
        foreach (var (name, data) in photos)
        {
            Console.WriteLine();
            Console.WriteLine($"{name} JPEG, {data.Length:N0} bytes");
            Staged(inspector, cipher, data, 1.5); // warm-up (tiered JIT)
            var stages = Staged(inspector, cipher, data, seconds);
            double total = 0, totalCpu = 0;
            foreach (var ((stage, ms), cpu) in stages.Stages.Zip(stages.CpuMs))
            {
                ms.Sort();
                total += ms.Average();
                totalCpu += cpu;
                Console.WriteLine($"  {stage,-14} median {ms[ms.Count / 2],8:0.000} ms   mean {ms.Average(),8:0.000} ms   thread CPU mean {cpu,8:0.000} ms");
            }
            Console.WriteLine($"  {"sum of stages",-14}                   mean {total,8:0.000} ms   thread CPU mean {totalCpu,8:0.000} ms   ({stages.Runs} runs)");

            var encryptData = "vigil-photo|learner|exam|PHOTO_KIND_ID_DOCUMENT|ph_bench";
            InspectedPhoto? last = null;
            async Task Check()
            {
                last = await inspector.InspectAsync(data, CancellationToken.None);
                if (last.Accepted) cipher.Encrypt(last.CleanJpeg, encryptData);
            }
            var (checks, allocated, gcs, checkCpu) = await LoopAsync(Check, seconds);
            var (bare, _, _, bareCpu) = await LoopAsync(() => { Bare(data); return Task.CompletedTask; }, seconds);
            Console.WriteLine($"  whole check    {checks,8:0.0} /s ({1000 / checks:0.00} ms; process CPU {checkCpu:0.00} ms = {1000 / checkCpu:0.0} checks per CPU-second), {allocated / 1024.0:N0} KiB managed allocated per check, GCs gen0/1/2 {gcs}");
            Console.WriteLine($"  bare decode + re-encode (echo ceiling) {bare,8:0.0} /s ({1000 / bare:0.00} ms; process CPU {bareCpu:0.00} ms = {1000 / bareCpu:0.0} per CPU-second); check = {100 * bareCpu / checkCpu:0}% of it by CPU");
            Console.WriteLine($"  {last!.Width}x{last.Height} accepted={last.Accepted} {Format(last.Metrics)} phash={last.PerceptualHash:X16} stored={last.CleanJpeg.Length:N0} bytes");
        }
        return 0;
    }

    /// <summary>
    /// Every photo of the quality corpus (<see cref="PhotoCorpus"/>) through the inspector: expected answer, verdict,
    /// metrics, hash and stored-copy digest per photo, then the false refusals and acceptances per group (docs/identity.md).
    /// </summary>
    private static async Task CorpusAsync(PhotoInspector inspector, string? write)
    {
        if (write is not null) Directory.CreateDirectory(write);
        var outcomes = new List<CorpusOutcome>();
        foreach (var photo in PhotoCorpus.All)
        {
            CorpusOutcome outcome;
            string detail;
            try
            {
                var p = await inspector.InspectAsync(photo.Bytes, CancellationToken.None);
                outcome = new CorpusOutcome(photo, p.Accepted, false, [.. p.Problems.Select(x => x.Code)]);
                var stored = p.CleanJpeg.Length == 0 ? "-" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(p.CleanJpeg))[..12];
                detail = $"{p.Width}x{p.Height} {Format(p.Metrics)} phash={p.PerceptualHash:X16} sha={stored}";
            }
            catch (FileRefusedException ex)
            {
                outcome = new CorpusOutcome(photo, false, true, []);
                detail = ex.Refusal.ToString();
            }
            outcomes.Add(outcome);
            if (write is not null) File.WriteAllBytes(Path.Combine(write, photo.Name + (photo.Bytes.AsSpan().StartsWith("PNG"u8[..0]) && photo.Bytes[0] == 0x89 ? ".png" : ".jpg")), photo.Bytes);
            Console.WriteLine($"{(outcome.AsExpected ? "  " : "!!")} {photo.Name,-40} expected {photo.Expected,-10} got {outcome.Verdict,-22} {detail}");
        }
        Console.WriteLine();
        Console.Write(CorpusScore.Table(outcomes));
    }

    private static string Format(PhotoMetrics m) => string.Create(CultureInfo.InvariantCulture,
        $"mean={m.MeanLuminance:0} spread={m.LuminanceSpread:0} dark={m.DarkEnd:0} bright={m.BrightEnd:0} clipped={m.ClippedShare:0.000} detail={m.DetailShare:0.000} sharp={m.Sharpness:0.000}");

    /// <summary>Writes the drawn photos that the corpus's prepare.sh converts to progressive and CMYK JPEG (lossless PNGs).</summary>
    private static void Export(string dir)
    {
        Directory.CreateDirectory(dir);
        using (var white = PhotoCorpus.Bright.Shoot(DrawnPhotos.Document(new DocumentScene(DocumentLayout.IdCard, DocumentStyle.White, Framing.FillsFrame), 100, 800, 600), 100))
        {
            File.WriteAllBytes(Path.Combine(dir, "white-card-bright.png"), PhotoFiles.Png(white));
        }
        using var passport = Camera.Phone.Shoot(DrawnPhotos.Document(new DocumentScene(DocumentLayout.PassportPage, DocumentStyle.Pastel, Framing.FillsFrame), 111, 800, 600), 111);
        File.WriteAllBytes(Path.Combine(dir, "pastel-passport.png"), PhotoFiles.Png(passport));
    }

    private sealed record StageTimes(List<(string Stage, List<double> Ms)> Stages, List<double> CpuMs, int Runs);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    /// <summary>This thread's CPU time (CLOCK_THREAD_CPUTIME_ID), ms: what a stage costs whatever else the machine runs.</summary>
    private static double ThreadCpuMs()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(3, out var t) != 0) return double.NaN;
        return (t.Seconds * 1000.0) + (t.Nanoseconds / 1e6);
    }

    /// <summary>The check's stages one after the other, as <see cref="PhotoInspector"/> runs them, each timed.</summary>
    private static StageTimes Staged(PhotoInspector inspector, PhotoCipher cipher, byte[] data, double seconds)
    {
        var names = new[] { "container", "decode", "orient+fit", "flatten (alpha)", "analysis grey", "measure", "hash", "encode", "encrypt" };
        var ms = names.Select(_ => new List<double>()).ToArray();
        var cpu = new double[names.Length];
        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var runs = 0;
        do
        {
            var stage = 0;
            var (t, c) = (Stopwatch.GetTimestamp(), ThreadCpuMs());
            void Mark()
            {
                var (t2, c2) = (Stopwatch.GetTimestamp(), ThreadCpuMs());
                ms[stage].Add(Stopwatch.GetElapsedTime(t, t2).TotalMilliseconds);
                cpu[stage++] += c2 - c;
                (t, c) = (t2, c2);
            }
            var container = ImageContainer.Read(data, 40_000_000);
            Mark();
            var (decoded, origin, opaque, size) = inspector.DecodePixels(data, container);
            Mark();
            var fitted = inspector.Prepare(decoded, origin, opaque: true, size);
            Mark();
            using var flat = opaque ? fitted : PhotoInspector.Flatten(fitted);
            Mark();
            var (gw, gh) = PhotoInspector.AnalysisSize(flat.Width, flat.Height);
            var gray = new float[gw * gh];
            PhotoInspector.AnalysisGray(flat, gray, gw, gh);
            Mark();
            PhotoInspector.Measure(gray, gw, gh);
            Mark();
            PerceptualHash.Compute(gray, gw, gh);
            Mark();
            var clean = inspector.EncodeClean(flat);
            Mark();
            cipher.Encrypt(clean, "vigil-photo|learner|exam|PHOTO_KIND_ID_DOCUMENT|ph_bench");
            Mark();
            runs++;
        }
        while (Stopwatch.GetTimestamp() < end);
        return new StageTimes([.. names.Zip(ms)], [.. cpu.Select(x => x / runs)], runs);
    }

    private static async Task<(double PerSecond, double AllocatedPerRun, string Gcs, double CpuMsPerRun)> LoopAsync(Func<Task> run, double seconds)
    {
        for (var w = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 2); Stopwatch.GetTimestamp() < w;) await run();
        var gc0 = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(seconds * Stopwatch.Frequency);
        var runs = 0;
        do
        {
            await run();
            runs++;
        }
        while (Stopwatch.GetTimestamp() < end);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var bytes = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / runs;
        var gcs = $"{GC.CollectionCount(0) - gc0.Item1}/{GC.CollectionCount(1) - gc0.Item2}/{GC.CollectionCount(2) - gc0.Item3}";
        return (runs / elapsed, bytes, gcs, (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds / runs);
    }

    /// <summary>What the echo server does with a photo (Servers/EchoServer.cs): decode, re-encode.</summary>
    private static void Bare(byte[] data)
    {
        using var bitmap = SKBitmap.Decode(data);
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, 90);
    }
}
