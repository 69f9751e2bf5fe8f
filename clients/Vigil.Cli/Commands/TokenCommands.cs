using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Vigil.Cli.Cli;

namespace Vigil.Cli.Commands;

/// <summary><c>vigil token mint</c>: a token from the development key, printed (offline).</summary>
internal static class TokenCommands
{
    public static Command Create(VigilCommandLine cli)
    {
        var role = OptionKinds.OneOf("--role", DevIdentity.RoleNames, "The token's role");
        var subject = OptionKinds.Required("--sub", "ID", "The subject: the learner's or staff member's id");
        var courses = new Option<string[]>("--course")
        {
            HelpName = "COURSE",
            Description = "A course the board member or staff member serves (repeatable, or comma-separated)",
        };
        var name = new Option<string?>("--name") { HelpName = "NAME", Description = "The display name" };
        var lifetime = new Option<TimeSpan?>("--lifetime")
        {
            HelpName = "HH:MM:SS",
            Description = "How long the token lives [default: 01:00:00]",
            CustomParser = result =>
            {
                var text = result.Tokens[0].Value;
                if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero) return value;
                result.AddError($"--lifetime takes a positive duration such as 01:00:00, not '{text}'.");
                return null;
            },
        };
        var mint = new Command("mint", "Mint a token from the development key and print it") { role, subject, courses, name, lifetime };
        cli.Offline(mint, (parse, output) =>
        {
            var token = cli.Globals.DevTokensOf(parse).Mint(
                DevIdentity.ParseRole(parse.GetValue(role)!)!.Value, parse.GetValue(subject)!, CourseList.Split(parse.GetValue(courses)),
                parse.GetValue(name), parse.GetValue(lifetime));
            output.Line(token);
            output.Emit(new JsonObject { ["token"] = token });
            return 0;
        });
        return new Command("token", "Development tokens") { mint };
    }
}
