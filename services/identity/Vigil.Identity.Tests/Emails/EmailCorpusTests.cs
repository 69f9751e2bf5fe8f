using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Emails;

namespace Vigil.Identity.Tests.Emails;

/// <summary>The email corpus: each address with its expected verdict, reason, suggestion and canonical key.</summary>
public sealed class EmailCorpusTests
{
    private static readonly EmailChecker Checker = new(Options.Create(new EmailOptions()));
    private const string Ok = "ACCEPTED";

    // (input, expected verdict or refusal reason, suggested address ("" = none), canonical key ("" when refused))
    public static TheoryData<string, string, string, string> Corpus => new()
    {
        // ---- accepted, with their canonical key ----
        { "jane@uni.fr", Ok, "", "jane@uni.fr" },
        { "Jane.Doe@Uni.FR", Ok, "", "jane.doe@uni.fr" },
        { "jean-luc@uni.fr", Ok, "", "jean-luc@uni.fr" },
        { "jean.luc@uni.fr", Ok, "", "jean.luc@uni.fr" },
        { "o'brien@example.ie", Ok, "", "o'brien@example.ie" },
        { "user_name@example.com", Ok, "", "user_name@example.com" },
        { "a@b.co", Ok, "", "a@b.co" },
        { "x@sub.domain.example.org", Ok, "", "x@sub.domain.example.org" },
        { "j.a.n.e@gmail.com", Ok, "", "jane@gmail.com" },
        { "Jane.Doe@googlemail.com", Ok, "", "janedoe@gmail.com" },
        { "jane-doe@gmail.com", Ok, "", "jane-doe@gmail.com" },
        { "jane.doe@yahoo.com", Ok, "", "jane.doe@yahoo.com" },
        { "jane_doe@outlook.com", Ok, "", "jane_doe@outlook.com" },
        { "jean-luc@hotmail.fr", Ok, "", "jean-luc@hotmail.fr" },
        { "jean-luc@proton.me", Ok, "", "jean-luc@proton.me" },
        { "josé@uni.fr", Ok, "", "josé@uni.fr" },
        { "user@münchen.de", Ok, "", "user@xn--mnchen-3ya.de" },
        { "User@MÜNCHEN.DE", Ok, "", "user@xn--mnchen-3ya.de" },
        { "user@xn--mnchen-3ya.de", Ok, "", "user@xn--mnchen-3ya.de" },
        { "\uFF4A\uFF41\uFF4E\uFF45@uni.fr", Ok, "", "jane@uni.fr" },            // fullwidth letters
        { "jane\uFF20uni.fr", Ok, "", "jane@uni.fr" },                            // fullwidth at sign
        { "jane@uni\u3002fr", Ok, "", "jane@uni.fr" },                            // ideographic full stop
        { "jane@uni\uFF0Efr", Ok, "", "jane@uni.fr" },                            // fullwidth full stop
        { "1234@numbers.com", Ok, "", "1234@numbers.com" },
        { "first.last@example.co.uk", Ok, "", "first.last@example.co.uk" },
        { "a!b#c$d%e&f'g*h=i?j^k_l`m{n|o}p~q@example.com", Ok, "", "a!b#c$d%e&f'g*h=i?j^k_l`m{n|o}p~q@example.com" },
        { new string('a', 64) + "@uni.fr", Ok, "", new string('a', 64) + "@uni.fr" },
        { "user@例え.jp", Ok, "", "user@xn--r8jz45g.jp" },
        { "δοκιμή@παράδειγμα.δοκιμή", Ok, "", "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp" },
        { "me@my-uni.ac.fr", Ok, "", "me@my-uni.ac.fr" },
        { "jane@UNI.FR", Ok, "", "jane@uni.fr" },
        { "=equal@uni.fr", Ok, "", "=equal@uni.fr" },
        { "marie-claire.dupont@univ-lyon1.fr", Ok, "", "marie-claire.dupont@univ-lyon1.fr" },

        // ---- aliases: refused with the address to use ----
        { "jane+mooc@uni.fr", "ALIAS", "jane@uni.fr", "" },
        { "jane+@uni.fr", "ALIAS", "jane@uni.fr", "" },
        { "Jane+Exam@Gmail.com", "ALIAS", "Jane@gmail.com", "" },
        { "jane\uFF0Bmooc@uni.fr", "ALIAS", "jane@uni.fr", "" },                 // fullwidth plus
        { "jane\uFE62mooc@uni.fr", "ALIAS", "jane@uni.fr", "" },                 // small plus
        { "jane\u2795mooc@uni.fr", "ALIAS", "jane@uni.fr", "" },                 // heavy plus (confusable)
        { "jane\u207Amooc@uni.fr", "ALIAS", "jane@uni.fr", "" },                 // superscript plus
        { "jane\u208Amooc@uni.fr", "ALIAS", "jane@uni.fr", "" },                 // subscript plus
        { "+mooc@uni.fr", "ALIAS", "", "" },
        { "jane-mooc@yahoo.com", "ALIAS", "jane@yahoo.com", "" },
        { "jane\u2010mooc@yahoo.com", "ALIAS", "jane@yahoo.com", "" },           // Unicode hyphen at Yahoo
        { "jane\uFF0Dmooc@ymail.com", "ALIAS", "jane@ymail.com", "" },           // fullwidth hyphen-minus at Yahoo
        { "jane+a+b@uni.fr", "ALIAS", "jane@uni.fr", "" },
        { "first.last+tag@outlook.com", "ALIAS", "first.last@outlook.com", "" },
        { "jane+tag@münchen.de", "ALIAS", "jane@münchen.de", "" },
        { "jane.+tag@uni.fr", "ALIAS", "", "" },
        { "jane+tag@proton.me", "ALIAS", "jane@proton.me", "" },
        { "-jane@yahoo.com", "ALIAS", "", "" },
        { "j.a.n.e+x@gmail.com", "ALIAS", "j.a.n.e@gmail.com", "" },
        { "jane+mooc@UNI.FR", "ALIAS", "jane@uni.fr", "" },

        // ---- syntax ----
        { "janeuni.fr", "SYNTAX", "", "" },
        { "jane@@uni.fr", "SYNTAX", "", "" },
        { "jane@uni@fr", "SYNTAX", "", "" },
        { "@uni.fr", "SYNTAX", "", "" },
        { ".jane@uni.fr", "SYNTAX", "", "" },
        { "jane.@uni.fr", "SYNTAX", "", "" },
        { "ja..ne@uni.fr", "SYNTAX", "", "" },
        { "\"jane\"@uni.fr", "SYNTAX", "", "" },
        { "jane(comment)@uni.fr", "SYNTAX", "", "" },
        { "jane,doe@uni.fr", "SYNTAX", "", "" },
        { "jane<doe>@uni.fr", "SYNTAX", "", "" },
        { "jane;x@uni.fr", "SYNTAX", "", "" },
        { "jane\\x@uni.fr", "SYNTAX", "", "" },
        { "ja:ne@uni.fr", "SYNTAX", "", "" },
        { "jane[1]@uni.fr", "SYNTAX", "", "" },
        { "jane\U0001F600@uni.fr", "SYNTAX", "", "" },                           // emoji

        // ---- domain ----
        { "jane@", "DOMAIN", "", "" },
        { "jane@localhost", "DOMAIN", "", "" },
        { "jane@uni", "DOMAIN", "", "" },
        { "jane@uni..fr", "DOMAIN", "", "" },
        { "jane@-uni.fr", "DOMAIN", "", "" },
        { "jane@uni-.fr", "DOMAIN", "", "" },
        { "jane@uni_x.fr", "DOMAIN", "", "" },
        { "jane@[192.168.0.1]", "DOMAIN", "", "" },
        { "jane@192.168.0.1", "DOMAIN", "", "" },
        { "jane@uni.fr.", "DOMAIN", "jane@uni.fr", "" },
        { "jane@.uni.fr", "DOMAIN", "", "" },
        { "jane@uni.f", "DOMAIN", "", "" },
        { "jane@uni.f1", "DOMAIN", "", "" },
        { "jane@" + new string('a', 64) + ".com", "DOMAIN", "", "" },

        // ---- too long ----
        { new string('a', 65) + "@uni.fr", "TOO_LONG", "", "" },
        { string.Concat(Enumerable.Repeat("é", 33)) + "@uni.fr", "TOO_LONG", "", "" },   // 33 characters, 66 octets
        { new string('a', 64) + "@" + new string('b', 63) + "." + new string('c', 63) + "." + new string('d', 59) + ".com", "TOO_LONG", "", "" },

        // ---- spaces and control characters ----
        { " jane@uni.fr", "FORBIDDEN_CHARACTER", "jane@uni.fr", "" },
        { "jane@uni.fr ", "FORBIDDEN_CHARACTER", "jane@uni.fr", "" },
        { "jane doe@uni.fr", "FORBIDDEN_CHARACTER", "", "" },
        { "jane@exa mple.com", "FORBIDDEN_CHARACTER", "", "" },
        { "jane\t@uni.fr", "FORBIDDEN_CHARACTER", "", "" },
        { "jane\u200B@uni.fr", "FORBIDDEN_CHARACTER", "", "" },                  // zero-width space
        { "jane\u00A0@uni.fr", "FORBIDDEN_CHARACTER", "", "" },                  // no-break space
        { "jane@uni.fr\n", "FORBIDDEN_CHARACTER", "jane@uni.fr", "" },
        { "jane\u202E@uni.fr", "FORBIDDEN_CHARACTER", "", "" },                  // right-to-left override
        { "jane\u0000@uni.fr", "FORBIDDEN_CHARACTER", "", "" },
        { "\u3000jane@uni.fr", "FORBIDDEN_CHARACTER", "jane@uni.fr", "" },       // ideographic space
        { " jane+x@uni.fr ", "FORBIDDEN_CHARACTER", "jane@uni.fr", "" },
        { "ja\u00ADne@uni.fr", "FORBIDDEN_CHARACTER", "", "" },                  // soft hyphen

        // ---- empty ----
        { "", "EMPTY", "", "" },
        { "   ", "EMPTY", "", "" },
    };

    [Fact]
    public void The_corpus_has_at_least_80_addresses() => Assert.True(Corpus.Count >= 80, $"{Corpus.Count} rows");

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Each_address_gets_its_verdict_reason_and_suggestion(string input, string expected, string suggestion, string canonical)
    {
        var check = Checker.Check(input);
        if (expected == Ok)
        {
            Assert.True(check.Accepted, $"{input}: {check.Reason} {check.Message}");
            Assert.Equal(EmailRefusalReason.Unspecified, check.Reason);
            Assert.Equal(canonical, check.CanonicalEmail);
            Assert.Empty(check.SuggestedEmail);
        }
        else
        {
            Assert.Equal(EmailVerdict.Refused, check.Verdict);
            Assert.Equal(expected, ReasonName(check.Reason));
            Assert.Equal(suggestion, check.SuggestedEmail);
            Assert.Empty(check.CanonicalEmail);
            Assert.False(string.IsNullOrWhiteSpace(check.Message));
            if (suggestion.Length > 0)
            {
                Assert.Contains(suggestion, check.Message, StringComparison.Ordinal);
                Assert.True(Checker.Check(suggestion).Accepted, $"the suggestion {suggestion} must itself be accepted");
            }
        }
    }

    [Fact]
    public void Two_spellings_of_one_mailbox_share_a_canonical_key()
    {
        Assert.Equal(Checker.Check("Jane.Doe@GMail.com").CanonicalEmail, Checker.Check("janedoe@googlemail.com").CanonicalEmail);
        Assert.Equal(Checker.Check("USER@münchen.de").CanonicalEmail, Checker.Check("user@xn--mnchen-3ya.de").CanonicalEmail);
        Assert.Equal(Checker.Check("\uFF4A\uFF41\uFF4E\uFF45@uni.fr").CanonicalEmail, Checker.Check("jane@uni.fr").CanonicalEmail);
        Assert.NotEqual(Checker.Check("jane.doe@uni.fr").CanonicalEmail, Checker.Check("janedoe@uni.fr").CanonicalEmail);
    }

    [Fact]
    public void The_provider_table_comes_from_configuration()
    {
        var custom = new EmailChecker(Options.Create(new EmailOptions
        {
            Providers = [new EmailProvider { Name = "Uni", Domains = ["uni.fr"], Separators = "-", IgnoresDots = true }],
        }));
        var refused = custom.Check("jean-luc@uni.fr");
        Assert.Equal(EmailRefusalReason.Alias, refused.Reason);
        Assert.Equal("jean@uni.fr", refused.SuggestedEmail);
        Assert.Contains("Uni uses '-'", refused.Message, StringComparison.Ordinal);
        Assert.Equal("janedoe@uni.fr", custom.Check("jane.doe@uni.fr").CanonicalEmail);
        // Gmail is not in this table: its dots are no longer ignored, '+' still is an alias.
        Assert.Equal("j.doe@gmail.com", custom.Check("j.doe@gmail.com").CanonicalEmail);
        Assert.Equal(EmailRefusalReason.Alias, custom.Check("j+x@gmail.com").Reason);
    }

    private static string ReasonName(EmailRefusalReason reason) => reason switch
    {
        EmailRefusalReason.Alias => "ALIAS",
        EmailRefusalReason.Syntax => "SYNTAX",
        EmailRefusalReason.TooLong => "TOO_LONG",
        EmailRefusalReason.Domain => "DOMAIN",
        EmailRefusalReason.ForbiddenCharacter => "FORBIDDEN_CHARACTER",
        EmailRefusalReason.Empty => "EMPTY",
        _ => reason.ToString(),
    };
}
