using System.CommandLine;
using System.Text.RegularExpressions;
using Vigil.Cli.Cli;
using Vigil.Cli.Commands;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.Cli.Tests;

/// <summary>
/// The command line as people and scripts type it: the commands of docs/client.md, scripts/run.sh and the
/// container test parse; values arrive typed; a mistake is refused with exit code 2 and a message naming the option.
/// </summary>
public sealed partial class CommandLineParsingTests
{
    private static readonly string Photo = typeof(CommandLineParsingTests).Assembly.Location; // any existing file

    public static TheoryData<string> UsedCommandLines() => new()
    {
        // scripts/run.sh, scripts/test.d/containers.sh and CliDemoTests
        "demo --gateway http://127.0.0.1:5100 --dashboard-url http://127.0.0.1:5180",
        "demo --gateway http://127.0.0.1:5100 --dashboard-url http://127.0.0.1:5180 --provider http://127.0.0.1:5190/",
        "demo --provider http://127.0.0.1:5190/ --password vigil-demo --learner grace",
        "demo --json --gateway http://127.0.0.1:5100 --dashboard-url http://127.0.0.1:5180 --provider http://127.0.0.1:5190/ --learner alan",
        "demo --course course-demo --learner ada",
        // docs/client.md
        "login --provider http://127.0.0.1:5190/", "login --provider https://id.example.org/realms/mooc --client-id vigil-desktop", "logout",
        "email check ada@example.org",
        "register --email ada@example.org --name \"Ada Lovelace\" --token abc",
        "verify system --exam e1", "verify mic --exam e1", "verify room --exam e1 --details \"room scanned\"",
        $"verify id-photo {Photo} --exam e1", $"verify face-photo {Photo} --exam e1", "verify status --exam e1",
        "images --out /tmp/photos",
        $"exam create {Photo} --token abc", $"exam create {Photo} --max-attempts 3 --practice",
        "session start --exam e1",
        $"session run --session s1 --answers {Photo}", $"session run --session s1 --answers {Photo} --no-final-check", $"session run --session s1 --answers {Photo} --pace 00:00:30",
        "session final-check --session s1 --last-seq 12",
        "session receipt --session s1",
        "board list --course c1", "board list --course c1 --awaiting", "board review --session s1",
        "board decide --session s1 --outcome refused --reason third-party-assistance --notes \"a voice\" --expected-version 3",
        "board decide --session s1 --outcome valid",
        "session report-problem --session s1 --description \"the camera froze\"",
        "board list --course c1 --filter problem", "board list --course c1 --filter second-look",
        "board second-look --session s1 --notes \"blurred photo\"", "board history --session s1",
        "results export --course c1 --out /tmp/results.csv", "results export --course c1 --out r.csv --page-size 500",
        "exam allow --exam e1 --learner l1 --reason \"hearing aid\" --time-multiplier 1.5 --grace-minutes 5 --headphones", "exam allow --exam e1 --learner l1 --reason r",
        "exam reset --exam e1 --learner l1 --reason \"fire alarm\"",
        "audit list --course c1", "audit list --course c1 --kind decision --from 2026-12-01T08:00Z --to 2026-12-02T08:00Z --page-size 20 --all-pages",
        "board accept-saved --session s1 --report inc-3 --reason \"platform outage\" --reference INC-4711",
        "dashboard", "dashboard --watch",
        "certificate verify ABCD-1234",
        "--json --gateway https://vigil.example.org board list --course c1",
        "--token abc dashboard",
        "--help", "board decide --help",
    };

    [Theory]
    [MemberData(nameof(UsedCommandLines))]
    public void A_command_line_in_use_parses(string line)
    {
        var parse = new VigilCommandLine().Root.Parse(line);
        Assert.True(parse.Errors.Count == 0, line + ": " + string.Join(" | ", parse.Errors.Select(e => e.Message)));
    }

    [Fact]
    public void Every_command_of_the_client_guide_exists_and_every_command_is_in_the_guide()
    {
        var guide = File.ReadAllText(Path.Combine(ServiceProcess.RepositoryRoot, "docs", "client.md"));
        var block = guide[guide.IndexOf("```\nvigil ", StringComparison.Ordinal)..];
        block = block[..block.IndexOf("\n```", 4, StringComparison.Ordinal)];
        var documented = new HashSet<string>(StringComparer.Ordinal);
        foreach (var segment in block.Split('\n').SelectMany(l => l.Split(" ; ")).Select(s => s.Trim()).Where(s => s.StartsWith("vigil ", StringComparison.Ordinal)))
        {
            var words = segment.Split(' ').Skip(1).TakeWhile(w => CommandWord().IsMatch(w)).ToList();
            IEnumerable<string> paths = [string.Empty];
            foreach (var word in words) paths = paths.SelectMany(p => word.Split('|').Select(w => (p + " " + w).Trim())).ToList();
            documented.UnionWith(paths);
        }
        var leaves = Leaves(new VigilCommandLine().Root, string.Empty).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(documented.Except(leaves));
        Assert.Empty(leaves.Except(documented));
    }

    [Fact]
    public void Values_arrive_typed()
    {
        var parse = new VigilCommandLine().Root.Parse("board decide --session s1 --outcome withdrawn --reason pen-and-paper --expected-version 7 --json");
        Assert.Empty(parse.Errors);
        Assert.Equal("withdrawn", parse.GetValue<string>("--outcome"));
        Assert.Equal(RefusalReason.PenAndPaper, parse.GetValue<RefusalReason>("--reason"));
        Assert.Equal(7L, parse.GetValue<long>("--expected-version"));
        Assert.True(parse.GetValue<bool>("--json"));
        Assert.Equal(string.Empty, parse.GetValue<string>("--notes"));
    }

    [Theory]
    [InlineData("board decide --session s1 --outcome maybe", "--outcome")]
    [InlineData("board decide --session s1 --outcome refused --reason sneezing", "--reason")]
    [InlineData("board decide --session s1 --outcome valid --expected-version -1", "--expected-version")]
    [InlineData("board decide --outcome valid", "--session")]
    [InlineData("session final-check --session s1 --last-seq twelve", "--last-seq")]
    [InlineData("session run --session s1 --answers /no/such/answers.json", "--answers")]
    [InlineData("verify id-photo /no/such/photo.jpg --exam e1", "FILE")]
    [InlineData("verify status", "--exam")]
    [InlineData("dashboard --gateway ftp://example.org", "--gateway")]
    [InlineData("board list --course c1 --awaitng", "--awaitng")]
    [InlineData("audit list --course c1 --kind gossip", "--kind")]
    [InlineData("exam allow --exam e1 --learner l1 --reason r --time-multiplier 9", "--time-multiplier")]
    [InlineData("audit list --course c1 --from yesterday", "--from")]
    [InlineData("login --provider ftp://id.example.org", "--provider")]
    [InlineData("demo --provider id.example.org", "--provider")]
    [InlineData("exam create EXAM.json --max-attempts 11", "--max-attempts")]
    [InlineData("session run --session s1 --answers /etc/passwd --pace soon", "--pace")]
    [InlineData("session run --session s1 --answers /etc/passwd --pace 02:00:00", "--pace")]
    public async Task A_mistake_exits_2_with_a_message_naming_the_option(string line, string named)
    {
        var (code, stdout, stderr) = await RunAsync(System.CommandLine.Parsing.CommandLineParser.SplitCommandLine(line).ToArray());
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains(named, stderr, StringComparison.Ordinal);
        Assert.Contains("--help", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_command_prints_the_help_and_exits_2()
    {
        var (code, stdout, _) = await RunAsync([]);
        Assert.Equal(2, code);
        Assert.Contains("board", stdout, StringComparison.Ordinal);
        Assert.Contains("--gateway", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("token mint --role learner --sub ada")]
    [InlineData("dashboard --as learner:ada")]
    [InlineData("dashboard --dev-key dmlnaWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1hLXNlY3JldC0wMTIzNDU2Nzg5")]
    [InlineData("dashboard --issuer vigil-dev --audience vigil")]
    public async Task The_client_mints_no_tokens_of_its_own(string line)
    {
        // The shared development key is gone: tokens come from a provider (vigil login) or are given (--token).
        var (code, stdout, stderr) = await RunAsync(System.CommandLine.Parsing.CommandLineParser.SplitCommandLine(line).ToArray());
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains("Unrecognized", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_demo_signs_in_at_the_development_provider_of_scripts_run_sh_unless_told()
    {
        var parse = new VigilCommandLine().Root.Parse("demo");
        Assert.Empty(parse.Errors);
        Assert.Equal("http://127.0.0.1:5190/", parse.GetValue<string>("--provider"));
        Assert.Equal("ada", parse.GetValue<string>("--learner"));
        Assert.Equal("course-demo", parse.GetValue<string>("--course"));
        Assert.Contains("PROVIDER=http://127.0.0.1:5190/", File.ReadAllText(Path.Combine(ServiceProcess.RepositoryRoot, "scripts", "run.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_refusal_reason_is_read_with_dashes_spaces_or_underscores()
    {
        Assert.Equal(RefusalReason.ThirdPartyAssistance, BoardCommands.ParseReason("third-party-assistance"));
        Assert.Equal(RefusalReason.ThirdPartyAssistance, BoardCommands.ParseReason("Third_Party assistance"));
        Assert.Null(BoardCommands.ParseReason("unspecified"));
        Assert.Null(BoardCommands.ParseReason("sneezing"));
    }

    [Fact]
    public void An_answers_file_keeps_its_order_and_its_kinds()
    {
        var answers = ExamCommands.ParseAnswers("""{"q1": {"choice": {"optionIds": ["a", "b"]}}, "q2": {"number": 5}, "q3": {"text": "normal"}}""");
        Assert.Equal(["q1", "q2", "q3"], answers.Select(a => a.QuestionId));
        Assert.Equal(["a", "b"], answers[0].Answer.Choice.OptionIds);
        Assert.Equal(5, answers[1].Answer.Number);
        Assert.Equal("normal", answers[2].Answer.Text);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await new VigilCommandLine(stdout, stderr).RunAsync(args, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static IEnumerable<string> Leaves(Command command, string path)
    {
        if (command.Subcommands.Count == 0)
        {
            yield return path;
            yield break;
        }
        foreach (var sub in command.Subcommands)
        {
            foreach (var leaf in Leaves(sub, (path + " " + sub.Name).Trim())) yield return leaf;
        }
    }

    [GeneratedRegex("^[a-z][a-z|-]*$")]
    private static partial Regex CommandWord();
}
