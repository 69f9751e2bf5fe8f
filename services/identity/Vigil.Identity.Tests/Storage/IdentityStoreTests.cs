using StackExchange.Redis;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;

namespace Vigil.Identity.Tests.Storage;

/// <summary>Every branch of every identity script, against the real Redis, through the store's typed results.</summary>
public sealed class IdentityStoreTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    private (RedisStorage Storage, IdentityKeys Keys, IdentityStore Store, string LearnerId) New()
    {
        var storage = redis.NewStorage("identity-store");
        var keys = new IdentityKeys(storage.Keys);
        return (storage, keys, new IdentityStore(storage, keys), "l-" + Guid.NewGuid().ToString("N")[..8]);
    }

    private static (string Method, string RequestId, byte[] Response, TimeSpan Window) Reply(string requestId, byte[]? response = null, string method = "step") =>
        (method, requestId, response ?? [0], TimeSpan.FromHours(1));

    private static NewPhoto Photo(string id, string kind) => new(id, [1, 2, 3, (byte)id.Length], "exam-1", kind, T0, T0 + Retention, "k1");

    private static async Task<HashSet<string>> IndexOf(RedisStorage storage, IdentityKeys keys, string learnerId) =>
        (await storage.Database.SetMembersAsync(keys.Index(learnerId))).Select(m => m.ToString()).ToHashSet();

    [Fact]
    public async Task A_verification_commits_only_over_the_version_it_read()
    {
        var (storage, keys, store, learner) = New();
        var empty = await store.LoadVerificationAsync(learner, "exam-1");
        Assert.Null(empty.Record.IdPhotoId);

        var first = new VerificationRecord { IdPhotoId = "ph-1" };
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", empty.Version, first, Retention, null, [], Reply("r1", [1])));
        // A second writer that read the same (empty) version loses.
        Assert.False(await store.TryCommitVerificationAsync(learner, "exam-1", empty.Version, new VerificationRecord { IdPhotoId = "ph-other" }, Retention, null, [], Reply("r2", [2])));
        Assert.Null(await store.GetIdempotentAsync(learner, "step", "r2"));

        var (record, version) = await store.LoadVerificationAsync(learner, "exam-1");
        Assert.Equal("ph-1", record.IdPhotoId);
        Assert.Equal([1], await store.GetIdempotentAsync(learner, "step", "r1"));
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", version, new VerificationRecord { IdPhotoId = "ph-2" }, Retention, null, [], Reply("r3", [3])));
        Assert.Equal("ph-2", (await store.LoadVerificationAsync(learner, "exam-1")).Record.IdPhotoId);

        var verification = keys.Verification(learner, "exam-1");
        Assert.InRange((await storage.Database.KeyTimeToLiveAsync(verification))!.Value, Retention - TimeSpan.FromMinutes(1), Retention);
        Assert.True((await IndexOf(storage, keys, learner)).SetEquals([verification.ToString(), keys.Idempotency(learner, "step", "r1").ToString(), keys.Idempotency(learner, "step", "r3").ToString()]));
        Assert.InRange((await storage.Database.KeyTimeToLiveAsync(keys.Index(learner)))!.Value, Retention - TimeSpan.FromMinutes(1), Retention);
    }

    [Fact]
    public async Task A_commit_writes_the_new_photo_and_deletes_the_ones_it_replaces()
    {
        var (storage, keys, store, learner) = New();
        var v0 = (await store.LoadVerificationAsync(learner, "exam-1")).Version;
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", v0, new VerificationRecord { IdPhotoId = "ph-id" }, Retention, Photo("ph-id", "IdDocument"), [], Reply("r1")));
        var v1 = (await store.LoadVerificationAsync(learner, "exam-1")).Version;
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", v1, new VerificationRecord { FacePhotoId = "ph-face" }, Retention, Photo("ph-face", "Face"), [], Reply("r2")));

        var stored = await store.GetPhotoAsync(learner, "ph-id");
        Assert.Equal(("ph-id", "exam-1", "IdDocument", T0, T0 + Retention), (stored!.PhotoId, stored.ExamId, stored.Kind, stored.TakenAt, stored.ExpiresAt));
        Assert.Equal([1, 2, 3, 5], stored.EncryptedData);
        Assert.InRange((await storage.Database.KeyTimeToLiveAsync(keys.Photo(learner, "ph-id")))!.Value, Retention - TimeSpan.FromMinutes(1), Retention);

        // Both replaced in one step (the ID step showed the face): deleted and out of the index, no new photo.
        var v2 = (await store.LoadVerificationAsync(learner, "exam-1")).Version;
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", v2, new VerificationRecord(), Retention, null, ["ph-id", "ph-face", "ph-id"], Reply("r3")));
        Assert.Null(await store.GetPhotoAsync(learner, "ph-id"));
        Assert.Null(await store.GetPhotoAsync(learner, "ph-face"));
        Assert.DoesNotContain(await IndexOf(storage, keys, learner), k => k.Contains(":photo:", StringComparison.Ordinal));

        // A replacement that names the new photo itself keeps it.
        var v3 = (await store.LoadVerificationAsync(learner, "exam-1")).Version;
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", v3, new VerificationRecord { IdPhotoId = "ph-new" }, Retention, Photo("ph-new", "IdDocument"), ["ph-new"], Reply("r4")));
        Assert.NotNull(await store.GetPhotoAsync(learner, "ph-new"));
        Assert.Null(await store.GetPhotoAsync(learner, "ph-none"));
    }

    [Fact]
    public async Task A_photo_pinned_to_a_session_survives_the_retake_that_replaces_it_and_not_the_erasure()
    {
        var (storage, keys, store, learner) = New();
        var v0 = (await store.LoadVerificationAsync(learner, "exam-1")).Version;
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", v0, new VerificationRecord { IdPhotoId = "ph-id" }, Retention, Photo("ph-id", "IdDocument"), [], Reply("r1")));

        // Pinned (a photo already gone is skipped and not counted), then replaced by a retake: kept, with its TTL and in the index.
        Assert.Equal(1, await store.PinPhotosAsync(learner, ["ph-id", "ph-gone"], "ses-1"));
        Assert.Equal("ses-1", (string?)await storage.Database.HashGetAsync(keys.Photo(learner, "ph-id"), "pinned_by"));
        Assert.False(await storage.Database.KeyExistsAsync(keys.Photo(learner, "ph-gone")));
        var v1 = (await store.LoadVerificationAsync(learner, "exam-1")).Version;
        Assert.True(await store.TryCommitVerificationAsync(learner, "exam-1", v1, new VerificationRecord { IdPhotoId = "ph-retake" }, Retention, Photo("ph-retake", "IdDocument"), ["ph-id"], Reply("r2")));
        Assert.NotNull(await store.GetPhotoAsync(learner, "ph-id"));
        Assert.NotNull(await store.GetPhotoAsync(learner, "ph-retake"));
        Assert.NotNull(await storage.Database.KeyTimeToLiveAsync(keys.Photo(learner, "ph-id")));
        Assert.Contains(await IndexOf(storage, keys, learner), k => k.EndsWith(":photo:ph-id", StringComparison.Ordinal));
        Assert.Equal(0, await store.PinPhotosAsync(learner, [], "ses-2"));

        // Erasure still takes it.
        await store.EraseAsync(learner);
        Assert.Null(await store.GetPhotoAsync(learner, "ph-id"));
    }

    [Fact]
    public async Task An_idempotent_reply_is_kept_for_its_window_and_indexed()
    {
        var (storage, keys, store, learner) = New();
        Assert.Null(await store.GetIdempotentAsync(learner, "photo", "r1"));
        await store.SaveIdempotentAsync(learner, "photo", "r1", [9, 8], TimeSpan.FromMinutes(10));
        Assert.Equal([9, 8], await store.GetIdempotentAsync(learner, "photo", "r1"));
        Assert.Null(await store.GetIdempotentAsync(learner, "step", "r1"));
        Assert.Contains(keys.Idempotency(learner, "photo", "r1").ToString(), await IndexOf(storage, keys, learner));
        Assert.InRange((await storage.Database.KeyTimeToLiveAsync(keys.Index(learner)))!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task A_learner_keeps_the_first_registration_time_and_says_which_address_it_had()
    {
        var (_, _, store, learner) = New();
        Assert.Null(await store.GetLearnerAsync(learner));
        var first = new StoredLearner(learner, "Jane@Uni.fr", "jane@uni.fr", "Jane", T0);
        Assert.Equal(string.Empty, await store.SaveLearnerAsync(first, Reply("r1", [1], method: "register")));
        Assert.Equal(first, await store.GetLearnerAsync(learner));
        Assert.Equal([1], await store.GetIdempotentAsync(learner, "register", "r1"));

        var moved = new StoredLearner(learner, "jane@other.fr", "jane@other.fr", "Jane D.", T0.AddDays(1));
        Assert.Equal("jane@uni.fr", await store.SaveLearnerAsync(moved, Reply("r2", method: "register")));
        Assert.Equal(moved with { RegisteredAt = T0 }, await store.GetLearnerAsync(learner));
    }

    [Fact]
    public async Task A_mailbox_is_claimed_once_taken_over_only_as_read_and_released_only_by_its_holder()
    {
        var (_, _, store, learner) = New();
        var mailbox = learner + "@uni.fr";
        Assert.Null(await store.GetEmailClaimAsync(mailbox));
        Assert.Null(await store.TryClaimEmailAsync(mailbox, "ghost", T0));
        var held = await store.TryClaimEmailAsync(mailbox, learner, T0.AddMinutes(1));
        Assert.Equal(("ghost", T0), (held!.LearnerId, held.ClaimedAt));
        Assert.Equal(("ghost", T0), ((await store.TryClaimEmailAsync(mailbox, "other", T0.AddMinutes(2)))!.LearnerId, held.ClaimedAt));

        // Released only by its holder.
        await store.ReleaseEmailAsync(mailbox, learner);
        Assert.Equal("ghost", (await store.GetEmailClaimAsync(mailbox))!.LearnerId);

        // Taken over only while the claim is still the one read.
        Assert.True(await store.TakeOverEmailAsync(mailbox, held, learner, T0.AddMinutes(10)));
        var mine = await store.GetEmailClaimAsync(mailbox);
        Assert.Equal((learner, T0.AddMinutes(10)), (mine!.LearnerId, mine.ClaimedAt));
        Assert.False(await store.TakeOverEmailAsync(mailbox, held, "late", T0.AddMinutes(11)));
        Assert.Equal(learner, (await store.GetEmailClaimAsync(mailbox))!.LearnerId);

        await store.ReleaseEmailAsync(mailbox, learner);
        Assert.Null(await store.GetEmailClaimAsync(mailbox));
    }

    [Fact]
    public async Task Erasure_removes_every_key_of_the_learner_counts_them_and_frees_the_mailbox()
    {
        var (storage, keys, store, learner) = New();
        await store.SaveLearnerAsync(new StoredLearner(learner, "a@b.fr", learner + "@b.fr", "A", T0), Reply("r0", method: "register"));
        await store.TryClaimEmailAsync(learner + "@b.fr", learner, T0);
        foreach (var exam in new[] { "exam-1", "exam-2" })
        {
            var v = (await store.LoadVerificationAsync(learner, exam)).Version;
            await store.TryCommitVerificationAsync(learner, exam, v, new VerificationRecord { IdPhotoId = "ph-" + exam }, Retention, Photo("ph-" + exam, "IdDocument") with { ExamId = exam }, [], Reply("r-" + exam));
        }
        await store.SaveIdempotentAsync(learner, "photo", "r9", [1], TimeSpan.FromHours(1));

        // An index read before a key was added: the step refuses, nothing is erased.
        var before = (await storage.Database.SetMembersAsync(keys.Index(learner))).Select(m => (RedisKey)m.ToString()).Take(2).ToList();
        Assert.Null(await store.TryEraseAsync(learner, before));
        Assert.NotNull(await store.GetLearnerAsync(learner));

        var counts = await store.EraseAsync(learner);
        Assert.Equal(new ErasureCounts(2, 2, true, learner + "@b.fr"), counts);
        var left = new List<string>();
        // The primary of the learner's slot (on a Redis Cluster, another node would have none of them anyway).
        await foreach (var key in storage.Database.Multiplexer.GetServer(keys.Of(learner).Key).KeysAsync(pattern: keys.Of(learner).Root + "*")) left.Add(key.ToString());
        Assert.Empty(left);
        Assert.Null(await store.GetEmailClaimAsync(learner + "@b.fr"));

        Assert.Equal(new ErasureCounts(0, 0, false, string.Empty), await store.EraseAsync(learner));
    }

    [Fact]
    public async Task Exam_requirements_read_back_as_set()
    {
        var (_, _, store, _) = New();
        var exam = "exam-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Null(await store.GetExamAsync(exam));
        await store.SetExamAsync(exam, new ExamRequirements("course-1", true));
        Assert.Equal(new ExamRequirements("course-1", true), await store.GetExamAsync(exam));
    }
}
