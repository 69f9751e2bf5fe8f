using Google.Protobuf.Reflection;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Contracts.Tests;

/// <summary>The compiled contract, as integrators see it.</summary>
internal static class Contract
{
    public static IReadOnlyList<FileDescriptor> Files { get; } =
    [
        IdentityReflection.Descriptor,
        ExamReflection.Descriptor,
        SessionReflection.Descriptor,
        ReviewReflection.Descriptor,
        ErasureReflection.Descriptor,
        CertificateReflection.Descriptor,
    ];

    public static IEnumerable<ServiceDescriptor> Services => Files.SelectMany(f => f.Services);

    public static IEnumerable<MethodDescriptor> Methods => Services.SelectMany(s => s.Methods);

    public static IEnumerable<MessageDescriptor> Messages => Files.SelectMany(f => f.MessageTypes).SelectMany(Flatten);

    public static IEnumerable<EnumDescriptor> Enums =>
        Files.SelectMany(f => f.EnumTypes).Concat(Messages.SelectMany(m => m.EnumTypes));

    private static IEnumerable<MessageDescriptor> Flatten(MessageDescriptor m) =>
        new[] { m }.Concat(m.NestedTypes.SelectMany(Flatten));
}
