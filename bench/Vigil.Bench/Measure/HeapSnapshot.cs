using System.Diagnostics;

namespace Vigil.Bench.Measure;

/// <summary>
/// A heap snapshot of a server process with dotnet-gcdump (a global tool: dotnet tool install -g dotnet-gcdump),
/// and its report by type, to see what an open exam stream holds. Taken before a measured window: it forces a
/// full garbage collection.
/// </summary>
internal static class HeapSnapshot
{
    public static async Task TakeAsync(int pid, string folder, Action<string> log)
    {
        Directory.CreateDirectory(folder);
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
        if (!File.Exists(tool)) tool = "dotnet-gcdump";
        var dump = Path.Combine(folder, $"session-{pid}.gcdump");
        try
        {
            await RunAsync(tool, ["collect", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", dump]);
            var report = await RunAsync(tool, ["report", dump]);
            await File.WriteAllTextAsync(Path.ChangeExtension(dump, ".txt"), report);
            log($"  heap snapshot of the session process: {dump} (report beside it)");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            log("  heap snapshot failed: " + ex.Message);
        }
    }

    private static async Task<string> RunAsync(string tool, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start " + tool);
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {args[0]} exited with {p.ExitCode}: {await error}");
        return await output;
    }
}
