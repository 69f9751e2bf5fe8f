using System.Buffers.Text;
using System.Text;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Storage;

namespace Vigil.Session.Paging;

/// <summary>
/// The page tokens of the session service's lists (the review list, a learner's sessions): opaque to clients
/// (base64url), a cursor inside (the last member read of the list's sorted set, which never changes), bound to its
/// list (the scope: which course and filter, which learner). A token of another list, or one that is not a token, is
/// refused with InvalidArgument. A token grants nothing: the caller may read the whole list anyway, so a token
/// edited to start elsewhere in the same list only skips part of it.
/// </summary>
internal static class PageToken
{
    private const string Version = "p1";

    /// <summary>The token that continues after <paramref name="lastMember"/> in the list <paramref name="scope"/>.</summary>
    public static string Write(string scope, string lastMember) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('\n', Version, scope, lastMember)));

    /// <summary>
    /// The member to continue after, or null for the first page; <paramref name="isMember"/> says what a member of the
    /// list looks like (default: a review list's or a learner's sessions').
    /// </summary>
    public static string? Read(string token, string scope, Func<string, bool>? isMember = null)
    {
        if (token.Length == 0) return null;
        string[] parts;
        try
        {
            parts = token.Length <= 2048 ? Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token)).Split('\n') : [];
        }
        catch (FormatException)
        {
            parts = [];
        }
        if (parts is not [Version, var tokenScope, var member] || tokenScope != scope
            || !(isMember ?? (m => SessionStore.ReviewMemberSession(m) is not null))(member))
        {
            throw new InvalidRequestException("page_token",
                "This is not a page token of this list: send the next_page_token of the previous page of the same list, or none for the first page.");
        }
        return member;
    }
}
