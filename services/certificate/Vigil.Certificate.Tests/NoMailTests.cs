namespace Vigil.Certificate.Tests;

/// <summary>Nothing is emailed: the dashboard is the one place a result appears.</summary>
public sealed class NoMailTests
{
    [Fact]
    public void The_service_references_no_mail_assembly_and_has_no_mail_code()
    {
        var assembly = typeof(CertificateApp).Assembly;
        var references = assembly.GetReferencedAssemblies().Select(a => a.Name ?? string.Empty).ToList();
        Assert.Contains(references, r => r.StartsWith("Vigil.", StringComparison.Ordinal)); // the check sees real references
        Assert.DoesNotContain(references, r => r.Contains("Mail", StringComparison.OrdinalIgnoreCase) || r.Contains("Smtp", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(assembly.GetTypes(), t => t.FullName!.Contains("Mail", StringComparison.OrdinalIgnoreCase) || t.FullName.Contains("Smtp", StringComparison.OrdinalIgnoreCase));

        var deps = Path.Combine(AppContext.BaseDirectory, "Vigil.Certificate.deps.json");
        Assert.True(File.Exists(deps), deps);
        var text = File.ReadAllText(deps);
        Assert.DoesNotContain("MailKit", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("MimeKit", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SendGrid", text, StringComparison.OrdinalIgnoreCase);
    }
}
