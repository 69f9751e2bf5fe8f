using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing;
using static Vigil.Identity.Tests.Infrastructure.IdentityFixture;

namespace Vigil.Identity.Tests.Registration;

/// <summary>RegisterLearner and GetLearner: the address as entered, one learner per mailbox, idempotent retries.</summary>
[Collection(IdentityCollection.Name)]
public sealed class RegisterLearnerTests(IdentityFixture fx)
{
    [Fact]
    public async Task A_learner_registers_keeps_the_address_as_entered_and_a_retry_returns_the_first_answer()
    {
        var learner = IdentityFixture.NewId("l");
        var client = fx.Learner(learner);
        var local = $"Jane.Doe.{Guid.NewGuid():N}";
        var request = Register($"{local}@UNI.fr");
        var first = await client.RegisterLearnerAsync(request);
        Assert.Equal(learner, first.Learner.LearnerId);
        Assert.Equal($"{local}@UNI.fr", first.Learner.Email);
        Assert.Equal($"{local.ToLowerInvariant()}@uni.fr", first.Learner.CanonicalEmail);
        Assert.Equal("Jane Doe", first.Learner.DisplayName);
        var retry = await client.RegisterLearnerAsync(request);
        Assert.Equal(first, retry);
        var fetched = await fx.Client(TestTokens.Service("session")).GetLearnerAsync(new GetLearnerRequest { LearnerId = learner });
        Assert.Equal(first.Learner, fetched.Learner);
        Assert.Equal(first.Learner, (await client.GetLearnerAsync(new GetLearnerRequest())).Learner);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied,
            () => fx.Learner("someone-else").GetLearnerAsync(new GetLearnerRequest { LearnerId = learner }).ResponseAsync);
    }

    [Fact]
    public async Task Registration_refuses_an_alias_with_a_field_violation_naming_the_address_to_use()
    {
        var client = fx.Learner(IdentityFixture.NewId("l"));
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument,
            () => client.RegisterLearnerAsync(Register("jane\uFF0Bmooc@uni.fr")).ResponseAsync);
        var violation = Assert.Single(RpcAssert.FieldViolations(ex));
        Assert.Equal("email", violation.Field);
        Assert.Contains("jane@uni.fr", violation.Description, StringComparison.Ordinal);
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, () => client.GetLearnerAsync(new GetLearnerRequest()).ResponseAsync);
    }

    [Fact]
    public async Task One_mailbox_cannot_register_twice_under_two_spellings()
    {
        var name = $"j.doe.{Guid.NewGuid():N}";
        var first = fx.Learner(IdentityFixture.NewId("l"));
        await first.RegisterLearnerAsync(Register($"{name}@gmail.com"));
        var second = fx.Learner(IdentityFixture.NewId("l"));
        var spelling = name.Replace(".", string.Empty, StringComparison.Ordinal).ToUpperInvariant() + "@GoogleMail.com";
        var ex = await RpcAssert.ThrowsAsync(StatusCode.AlreadyExists, () => second.RegisterLearnerAsync(Register(spelling)).ResponseAsync);
        Assert.Contains("already registered", ex.Status.Detail, StringComparison.Ordinal);
        // Concurrent registrations of one mailbox by many learners: exactly one wins.
        var contested = Mailbox("contested");
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await fx.Learner(IdentityFixture.NewId("racer")).RegisterLearnerAsync(Register(contested));
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));
        Assert.Equal(1, results.Count(r => r == StatusCode.OK));
        Assert.All(results.Where(r => r != StatusCode.OK), r => Assert.Equal(StatusCode.AlreadyExists, r));
    }

    [Fact]
    public async Task Changing_address_releases_the_old_mailbox()
    {
        var learner = fx.Learner(IdentityFixture.NewId("l"));
        var old = Mailbox("old");
        await learner.RegisterLearnerAsync(Register(old));
        var updated = await learner.RegisterLearnerAsync(Register(Mailbox("new")));
        Assert.NotEqual(old, updated.Learner.Email);
        var other = await fx.Learner(IdentityFixture.NewId("l")).RegisterLearnerAsync(Register(old));
        Assert.Equal(old, other.Learner.Email);
    }

    [Fact]
    public async Task A_mailbox_claim_left_by_a_crash_is_taken_over_after_the_grace_period()
    {
        // A claim whose learner never got a record (a registration that died between the two writes).
        var email = Mailbox("orphan");
        var db = fx.Redis.GetDatabase();
        var canonical = email.ToLowerInvariant();
        var key = fx.Keys.Email(canonical);
        await db.StringSetAsync(key, $"ghost|{DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds()}");
        var learner = IdentityFixture.NewId("l");
        var registered = await fx.Learner(learner).RegisterLearnerAsync(Register(email));
        Assert.Equal(canonical, registered.Learner.CanonicalEmail);
        Assert.StartsWith(learner + "|", (await db.StringGetAsync(key)).ToString(), StringComparison.Ordinal);

        // A fresh claim (a registration in flight) is respected.
        var email2 = Mailbox("inflight");
        var key2 = fx.Keys.Email(email2);
        await db.StringSetAsync(key2, $"other|{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        await RpcAssert.ThrowsAsync(StatusCode.AlreadyExists, () => fx.Learner(IdentityFixture.NewId("l")).RegisterLearnerAsync(Register(email2)).ResponseAsync);
    }
}
