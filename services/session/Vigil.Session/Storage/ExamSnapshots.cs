using System.Collections.Concurrent;
using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Storage;

/// <summary>
/// The exam snapshots of sessions, parsed once per process and shared. Every session keeps the exam as it was
/// when it started (its own copy of the bytes in Redis), but the thousands of sessions of one exam hold the
/// same bytes: parsing them once keeps an open exam stream's memory small (the stream holds the session and
/// its exam for hours) and spares a parse on every read. Keyed by content (a hash, then the bytes compared), so an exam changed after some sessions started is a second snapshot, never a wrong one.
/// The shared <see cref="Exam"/> is read-only by convention: clone it before changing anything.
/// </summary>
internal static class ExamSnapshots
{
    /// <summary>Distinct snapshots kept; past it the cache starts again empty (a busy day has a few exams).</summary>
    internal const int Capacity = 512;

    private static readonly ConcurrentDictionary<int, Entry> Cache = new();

    /// <summary>The parsed exam for these stored bytes, shared with every session that stored the same bytes.</summary>
    public static Exam Parse(byte[] bytes)
    {
        var hash = new HashCode();
        hash.AddBytes(bytes);
        var key = hash.ToHashCode();
        if (Cache.TryGetValue(key, out var hit) && hit.Bytes.AsSpan().SequenceEqual(bytes)) return hit.Exam;
        var exam = Exam.Parser.ParseFrom(bytes);
        if (Cache.Count >= Capacity) Cache.Clear();
        // A hash collision (different bytes, same key) keeps the first entry and parses the other each time.
        Cache.TryAdd(key, new Entry(bytes, exam));
        return exam;
    }

    /// <summary>How many snapshots are cached (for tests).</summary>
    internal static int Count => Cache.Count;

    private sealed record Entry(byte[] Bytes, Exam Exam);
}
