using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Vigil.ServiceDefaults.Hosting;

/// <summary>
/// The one way Vigil's options are registered: bound from their configuration section (so environment variables
/// such as <c>Section__Key</c> override appsettings.json, and a test's settings apply once, whenever the options
/// are first read), with their defaults in the class, and validated when the host starts. The rules live in the
/// options class: data annotations for single values, <see cref="IValidatableObject"/> for rules across values or
/// on the host environment (<see cref="IsDevelopmentLike"/>), whose messages name the key ("Photos:ActiveKeyId must …").
/// A failure stops the start with every message, each naming its configuration key, e.g.
/// "Hosting:MaxReceiveMessageBytes: The field MaxReceiveMessageBytes must be between 65536 and 67108864.".
/// </summary>
public static class ValidatedOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> from <paramref name="section"/> and validates it on start.</summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(sp => new AnnotationsValidator<TOptions>(section, sp));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>
    /// Whether the host runs in the Development or Testing environment: the only ones where development keys
    /// (public in the repository) are accepted.
    /// </summary>
    public static bool IsDevelopmentLike(this IHostEnvironment environment) =>
        environment.IsDevelopment() || environment.IsEnvironment("Testing");

    /// <summary>
    /// Within <see cref="IValidatableObject.Validate"/>: whether the host is Development or Testing. False when no
    /// host environment is known (a rule that accepts development keys only there then refuses them).
    /// </summary>
    public static bool IsDevelopmentLike(this ValidationContext context) =>
        context.GetService(typeof(IHostEnvironment)) is IHostEnvironment environment && environment.IsDevelopmentLike();

    /// <summary>Runs the data annotations and <see cref="IValidatableObject"/> of an options instance, with the host's services at hand.</summary>
    private sealed class AnnotationsValidator<TOptions>(string section, IServiceProvider services) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            if (name != Options.DefaultName) return ValidateOptionsResult.Skip;
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options, services, items: null), results, validateAllProperties: true))
            {
                return ValidateOptionsResult.Success;
            }
            return ValidateOptionsResult.Fail(results.Select(r => Describe(section, r)));
        }

        /// <summary>The message, after the configuration key it is about unless it names the section itself.</summary>
        private static string Describe(string section, ValidationResult result)
        {
            var message = result.ErrorMessage ?? "is not valid.";
            if (message.StartsWith(section + ":", StringComparison.Ordinal)) return message;
            var member = result.MemberNames.FirstOrDefault();
            return $"{(member is null ? section : section + ":" + member)}: {message}";
        }
    }
}
