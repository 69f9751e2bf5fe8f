using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Emails;

namespace Vigil.Identity.Tests.Emails;

/// <summary>An address refused for a character says which character it was: a newline is a line break, not "a space".</summary>
public sealed class ForbiddenCharacterMessageTests
{
    private static readonly EmailChecker Checker = new(Options.Create(new EmailOptions()));

    [Theory]
    [InlineData("jane@uni.fr\n", "a line break (newline)")]
    [InlineData("jane\n@uni.fr", "a line break (newline)")]
    [InlineData("jane@uni.fr\r\n", "a carriage return (line break)")]
    [InlineData("jane\t@uni.fr", "a tab")]
    [InlineData("jane @uni.fr", "a space")]
    [InlineData("jane\u00A0@uni.fr", "a non-breaking space (U+00A0)")]
    [InlineData("jane\u200B@uni.fr", "an invisible zero-width character (U+200B)")]
    [InlineData("jane\u0007@uni.fr", "a control character (U+0007)")]
    public void The_message_names_the_character(string address, string named)
    {
        var check = Checker.Check(address);
        Assert.Equal(EmailRefusalReason.ForbiddenCharacter, check.Reason);
        Assert.Contains($"The address contains {named}:", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trailing_newline_is_called_a_newline_and_the_address_without_it_is_suggested()
    {
        var check = Checker.Check("jane@uni.fr\n");
        Assert.DoesNotContain("a space", check.Message, StringComparison.Ordinal);
        Assert.Equal("jane@uni.fr", check.SuggestedEmail);
    }
}
