using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>Prints what a fault test checked, to the test's output and to stdout (so the test command shows it).</summary>
public static class Figures
{
    public static void Print(ITestOutputHelper output, string fault, string figures)
    {
        var line = $"[faults] {fault}: {figures}";
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
