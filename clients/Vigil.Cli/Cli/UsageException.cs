namespace Vigil.Cli.Cli;

/// <summary>A mistake in the command line that only the command itself can see (no token, say): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
