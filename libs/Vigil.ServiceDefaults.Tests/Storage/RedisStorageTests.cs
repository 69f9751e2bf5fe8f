using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests.Storage;

/// <summary>The storage boundary every store stands on: the key scheme, the script loader, the one write path.</summary>
public sealed class RedisStorageTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    [Fact]
    public void Keys_of_one_record_share_its_hash_tag_and_indexes_stand_alone()
    {
        var keys = new RedisKeyspace("vigil:test:");
        var record = keys.Record("s", "ses-1");
        Assert.Equal("vigil:test:s:{ses-1}", (string?)record.Key);
        Assert.Equal("vigil:test:s:{ses-1}:answers", (string?)record.Part("answers"));
        Assert.Equal("vigil:test:deadlines", (string?)keys.Global("deadlines"));
        Assert.Equal("vigil:test:dashboard:l1", keys.Channel("dashboard:l1").ToString());
        // One slot for the record and its parts, whatever the prefix.
        var slots = new[] { record.Key, record.Part("answers"), new RedisKeyspace("other:").Record("s", "ses-1").Part("outbox") }
            .Select(k => redis.Connection.HashSlot(k)).Distinct();
        Assert.Single(slots);
        Assert.Throws<ArgumentException>(() => keys.Record("s", string.Empty));
    }

    [Theory]
    [InlineData("")]
    [InlineData("vigil:{session}:")]
    [InlineData("has space:")]
    [InlineData("a-prefix-that-is-far-too-long-to-be-a-sensible-prefix-for-redis-keys:")]
    public void A_prefix_that_could_pick_a_hash_tag_or_is_empty_is_refused(string prefix)
    {
        Assert.False(RedisOptions.IsValidKeyPrefix(prefix));
        Assert.Throws<ArgumentException>(() => new RedisKeyspace(prefix));
    }

    [Fact]
    public async Task The_prefix_is_the_services_default_unless_configured_and_a_bad_one_stops_the_start()
    {
        await using (var app = await TestHost.StartAsync())
        {
            Assert.Equal("vigil:defaults-test:", app.Services.GetRequiredService<RedisKeyspace>().Prefix);
        }
        await using (var app = await TestHost.StartAsync(settings: new() { ["Redis:KeyPrefix"] = "school-a:vigil:" }))
        {
            Assert.Equal("school-a:vigil:", app.Services.GetRequiredService<RedisStorage>().Keys.Prefix);
        }
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHost.StartAsync(settings: new() { ["Redis:KeyPrefix"] = "{tag}" }));
        Assert.Contains("Redis:KeyPrefix", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_named_script_takes_its_parameters_by_name_with_its_includes()
    {
        var storage = redis.NewStorage("defaults");
        var script = RedisScript.Load<RedisStorageTests>("Bump");
        Assert.False(script.IsVariadic);
        Assert.Contains("local function bump", script.Text, StringComparison.Ordinal);
        var counter = storage.Keys.Record("counter", "c1").Key;
        var first = (RedisResult[])(await storage.WriteAsync(counter, script, new { counter, by = 5, label = "five" }))!;
        var second = (RedisResult[])(await storage.WriteAsync(counter, script, new { counter, by = 2L, label = "seven" }))!;
        Assert.Equal((5L, "five"), ((long)first[0], first[1].ToString()));
        Assert.Equal((7L, "seven"), ((long)second[0], second[1].ToString()));
        Assert.Equal(7L, (long)await storage.Database.StringGetAsync(counter));
    }

    [Fact]
    public async Task A_variadic_script_takes_its_keys_as_an_array()
    {
        var storage = redis.NewStorage("defaults");
        var script = RedisScript.LoadVariadic<RedisStorageTests>("DeleteAll");
        Assert.True(script.IsVariadic);
        var record = storage.Keys.Record("learner", "l1");
        RedisKey[] keys = [record.Key, record.Part("a"), record.Part("b")];
        await storage.WriteAsync(keys[0], (db, k) => db.StringSetAsync(k, "x"));
        await storage.WriteAsync(keys[2], (db, k) => db.StringSetAsync(k, "y"));
        Assert.Equal(2L, (long)await storage.WriteAsync(record.Key, script, keys, []));
        Assert.False(await storage.Database.KeyExistsAsync(keys[2]));
    }

    [Fact]
    public void The_loader_holds_each_kind_to_its_convention_and_names_a_missing_file()
    {
        Assert.Contains("KEYS", Assert.Throws<InvalidOperationException>(() => RedisScript.Load<RedisStorageTests>("NamedReadsKeys")).Message, StringComparison.Ordinal);
        Assert.Contains("@parameters", Assert.Throws<InvalidOperationException>(() => RedisScript.LoadVariadic<RedisStorageTests>("VariadicNamed")).Message, StringComparison.Ordinal);
        Assert.Contains("NoSuchScript.lua", Assert.Throws<InvalidOperationException>(() => RedisScript.Load<RedisStorageTests>("NoSuchScript")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_script_flushed_from_redis_runs_again_after_noscript()
    {
        var storage = redis.NewStorage("defaults");
        var script = RedisScript.Load<RedisStorageTests>("Bump");
        var counter = storage.Keys.Record("counter", "flush").Key;
        await storage.WriteAsync(counter, script, new { counter, by = 1, label = "before" });
        // A restarted or failed-over Redis has no scripts: EVALSHA answers NOSCRIPT and the script is sent again.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",allowAdmin=true"))
        {
            await admin.GetServer(admin.GetEndPoints()[0]).ScriptFlushAsync();
        }
        var after = (RedisResult[])(await storage.WriteAsync(counter, script, new { counter, by = 1, label = "after" }))!;
        Assert.Equal((2L, "after"), ((long)after[0], after[1].ToString()));
    }
}
