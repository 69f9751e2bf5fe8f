using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Vigil.Contracts.Tests;

/// <summary>
/// Field numbers are forever: against the committed baseline image (protos/baseline/vigil.binpb), no field
/// number changes name or type, and a removed field's number stays reserved.
/// </summary>
public sealed class FieldNumberTests
{
    private static FileDescriptorSet Baseline()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "baseline", "vigil.binpb");
        return FileDescriptorSet.Parser.ParseFrom(File.ReadAllBytes(path));
    }

    private static IEnumerable<(string Name, DescriptorProto Message)> Flatten(string prefix, DescriptorProto m) =>
        new[] { (prefix + "." + m.Name, m) }.Concat(m.NestedType.SelectMany(n => Flatten(prefix + "." + m.Name, n)));

    [Fact]
    public void Baseline_contains_the_vigil_files()
    {
        var files = Baseline().File.Select(f => f.Name).ToList();
        Assert.Contains("vigil/identity/v1/identity.proto", files);
        Assert.Contains("vigil/session/v1/session.proto", files);
        Assert.Contains("vigil/certificate/v1/certificate.proto", files);
    }

    [Fact]
    public void No_field_number_is_reused_or_retyped()
    {
        var current = Contract.Messages.ToDictionary(m => m.FullName);
        var problems = new List<string>();
        foreach (var file in Baseline().File.Where(f => f.Package.StartsWith("vigil.", StringComparison.Ordinal)))
        {
            foreach (var (name, old) in file.MessageType.SelectMany(m => Flatten(file.Package, m)))
            {
                if (!current.TryGetValue(name, out var now))
                {
                    problems.Add($"{name} was removed");
                    continue;
                }
                foreach (var oldField in old.Field)
                {
                    var field = now.FindFieldByNumber(oldField.Number);
                    if (field is null)
                    {
                        var reserved = now.ToProto().ReservedRange.Any(r => oldField.Number >= r.Start && oldField.Number < r.End);
                        if (!reserved) problems.Add($"{name}.{oldField.Name} ({oldField.Number}) was removed without reserving its number");
                        continue;
                    }
                    if (field.Name != oldField.Name) problems.Add($"{name} field {oldField.Number} was {oldField.Name}, is now {field.Name}");
                    if (field.ToProto().Type != oldField.Type) problems.Add($"{name}.{oldField.Name} changed type");
                }
            }
        }
        Assert.Empty(problems);
    }

    [Fact]
    public void Field_numbers_are_unique_within_each_message()
    {
        foreach (var m in Contract.Messages)
        {
            var numbers = m.Fields.InDeclarationOrder().Select(f => f.FieldNumber).ToList();
            Assert.Equal(numbers.Count, numbers.Distinct().Count());
            var reserved = m.ToProto().ReservedRange;
            Assert.DoesNotContain(numbers, n => reserved.Any(r => n >= r.Start && n < r.End));
        }
    }

    // Documentation of every element is enforced by buf lint's COMMENTS rules (scripts/test.sh runs it).
}
