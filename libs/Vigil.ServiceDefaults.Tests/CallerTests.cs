using System.Security.Claims;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>The learner-data rule: who may name a learner, and refusals that say what happened to whoever asked.</summary>
public sealed class CallerTests
{
    private static Caller With(string subject, string[] roles, string[]? boardCourses = null)
    {
        var claims = new List<Claim> { new(VigilClaims.Subject, subject) };
        claims.AddRange(roles.Select(r => new Claim(VigilClaims.Role, r)));
        claims.AddRange((boardCourses ?? []).Select(c => new Claim(VigilClaims.BoardCourse, c)));
        return new Caller(new ClaimsPrincipal(new ClaimsIdentity(claims, "test")));
    }

    [Fact]
    public void A_learner_reaches_their_own_data_by_naming_themselves_or_no_one()
    {
        var learner = With("l1", [VigilRoles.Learner]);
        Assert.Equal("l1", learner.LearnerData(string.Empty, LearnerDataReaders.LearnerOnly));
        Assert.Equal("l1", learner.LearnerData("l1", LearnerDataReaders.LearnerOnly));
    }

    [Fact]
    public void Another_learner_is_told_they_reach_only_their_own_data()
    {
        var ex = Assert.Throws<AccessDeniedException>(() => With("l2", [VigilRoles.Learner]).LearnerData("l1", LearnerDataReaders.Services));
        Assert.Equal("You can reach only your own data, not another learner's.", ex.Message);
    }

    [Fact]
    public void A_board_member_reading_a_learners_data_is_told_who_may_not_that_a_learner_reaches_only_their_own()
    {
        var board = With("b1", [], boardCourses: ["course-1"]);
        var ex = Assert.Throws<AccessDeniedException>(() => board.LearnerData("l1", LearnerDataReaders.Services));
        Assert.Equal("A learner's data is reached only by the learner themselves and Vigil's services.", ex.Message);
        Assert.DoesNotContain("a learner can reach", ex.Message, StringComparison.OrdinalIgnoreCase);
        var erase = Assert.Throws<AccessDeniedException>(() => board.LearnerData("l1", LearnerDataReaders.Ops));
        Assert.Equal("A learner's data is reached only by the learner themselves and platform operations.", erase.Message);
    }

    [Fact]
    public void Services_and_ops_name_the_learner_where_the_rule_lets_them_and_must_name_one()
    {
        var service = With("session", [VigilRoles.Service]);
        Assert.Equal("l1", service.LearnerData("l1", LearnerDataReaders.Services));
        Assert.Throws<AccessDeniedException>(() => service.LearnerData("l1", LearnerDataReaders.Ops));
        var missing = Assert.Throws<InvalidRequestException>(() => service.LearnerData(string.Empty, LearnerDataReaders.Services));
        Assert.Equal("learner_id", Assert.Single(missing.Violations).Field);

        var ops = With("ops-1", [VigilRoles.Ops]);
        Assert.Equal("l1", ops.LearnerData("l1", LearnerDataReaders.Ops));
        Assert.Throws<AccessDeniedException>(() => ops.LearnerData("l1", LearnerDataReaders.Services));
    }
}
