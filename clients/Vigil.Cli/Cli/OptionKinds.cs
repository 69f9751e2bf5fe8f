using System.CommandLine;
using System.Globalization;

namespace Vigil.Cli.Cli;

/// <summary>The options and arguments several commands share, made fresh for each command.</summary>
internal static class OptionKinds
{
    /// <summary>A required text option.</summary>
    public static Option<string> Required(string name, string helpName, string description) =>
        new(name) { Required = true, HelpName = helpName, Description = description };

    public static Option<string> Exam() => Required("--exam", "EXAM", "The exam's id");

    public static Option<string> Session() => Required("--session", "SESSION", "The exam session's id");

    public static Option<string> Course(bool required = true) =>
        new("--course") { Required = required, HelpName = "COURSE", Description = "The course's id" };

    /// <summary>An existing file, named as a positional argument.</summary>
    public static Argument<FileInfo> ExistingFile(string name, string description)
    {
        var argument = new Argument<FileInfo>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo>() is { Exists: false } file) result.AddError($"{name}: there is no file '{file}'.");
        });
        return argument;
    }

    /// <summary>An existing file, named by an option.</summary>
    public static Option<FileInfo> ExistingFile(string name, string helpName, string description)
    {
        var option = new Option<FileInfo>(name) { Required = true, HelpName = helpName, Description = description };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is { Exists: false } file) result.AddError($"{name}: there is no file '{file}'.");
        });
        return option;
    }

    /// <summary>A text option that takes one of a few words (offered for completion), with an error naming the option.</summary>
    public static Option<string> OneOf(string name, IReadOnlyCollection<string> values, string description, bool required = true)
    {
        var option = new Option<string>(name) { Required = required, HelpName = string.Join('|', values), Description = description };
        option.CompletionSources.Add([.. values]);
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !values.Contains(value)) result.AddError($"{name} takes {string.Join(", ", values)}; not '{value}'.");
        });
        return option;
    }

    /// <summary>A whole number (a sequence or a version), with an error naming the option.</summary>
    public static Option<long> Count(string name, string helpName, string description, bool required = false)
    {
        var option = new Option<long>(name)
        {
            Required = required,
            HelpName = helpName,
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return value;
                result.AddError($"{name} takes a whole number of 0 or more, not '{text}'.");
                return 0;
            },
        };
        return option;
    }
}
