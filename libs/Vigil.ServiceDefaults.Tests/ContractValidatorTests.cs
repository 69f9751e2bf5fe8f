using System.Collections;
using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// The contract validator against the whole contract: every request type of every service, every enum field it can
/// reach (nested messages, repeated fields, oneofs), set to a number the contract does not define, is named by its
/// path; the same request with known values passes. A new RPC or enum field is covered the day it is added.
/// </summary>
public sealed class ContractValidatorTests
{
    private static IEnumerable<MessageDescriptor> RequestTypes() =>
        typeof(Session).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>()
            .SelectMany(f => f.Services)
            .SelectMany(s => s.Methods)
            .Select(m => m.InputType)
            .DistinctBy(d => d.FullName);

    /// <summary>Every enum field reachable from a message, as the chain of fields that leads to it (each message type once per chain).</summary>
    private static IEnumerable<FieldDescriptor[]> EnumPaths(MessageDescriptor descriptor, ImmutableStack visiting)
    {
        foreach (var field in descriptor.Fields.InDeclarationOrder())
        {
            if (field.FieldType == FieldType.Enum) yield return [field];
            else if (field.FieldType == FieldType.Message && !field.IsMap && !visiting.Contains(field.MessageType))
            {
                foreach (var rest in EnumPaths(field.MessageType, visiting.Push(field.MessageType))) yield return [field, .. rest];
            }
        }
    }

    public static TheoryData<string> Requests() => [.. RequestTypes().Select(d => d.FullName)];

    [Theory]
    [MemberData(nameof(Requests))]
    public void Every_enum_field_of_a_request_refuses_an_unknown_number_and_is_named_by_its_path(string requestType)
    {
        var descriptor = RequestTypes().Single(d => d.FullName == requestType);
        foreach (var path in EnumPaths(descriptor, ImmutableStack.Empty.Push(descriptor)))
        {
            var enumField = path[^1];
            var unknown = enumField.EnumType.Values.Max(v => v.Number) + 1000;
            foreach (var known in new[] { enumField.EnumType.Values.Max(v => v.Number), unknown })
            {
                var message = (IMessage)Activator.CreateInstance(descriptor.ClrType)!;
                var expectedPath = Set(message, path, known);
                var found = ContractValidator.FirstUnknownEnum(message);
                if (known == unknown)
                {
                    Assert.True(found is not null, $"{requestType}: {expectedPath} = {unknown} was not found");
                    Assert.Equal(expectedPath, found!.Value.Field);
                    Assert.Contains(enumField.EnumType.FullName, found.Value.Description, StringComparison.Ordinal);
                    // Through the wire too: the bytes parse, and the parsed request is refused the same way.
                    var parsed = descriptor.Parser.ParseFrom(message.ToByteArray());
                    Assert.Equal(expectedPath, ContractValidator.FirstUnknownEnum(parsed)?.Field);
                }
                else
                {
                    Assert.Null(found);
                }
            }
        }
    }

    [Fact]
    public void The_walk_reaches_the_enums_the_issue_names()
    {
        var create = RequestTypes().Single(d => d.Name == "CreateExamRequest");
        var stream = RequestTypes().Single(d => d.Name == "StreamExamRequest");
        Assert.Contains(EnumPaths(create, ImmutableStack.Empty.Push(create)), p => string.Join('.', p.Select(f => f.Name)) == "exam.questions.kind");
        Assert.Contains(EnumPaths(stream, ImmutableStack.Empty.Push(stream)), p => string.Join('.', p.Select(f => f.Name)) == "heartbeat.audio_output");
        Assert.Contains(RequestTypes(), d => d.Name == "UploadPhotoRequest");
        Assert.Contains(RequestTypes(), d => d.Name == "RecordDecisionRequest");
    }

    /// <summary>Sets the enum at the end of <paramref name="path"/> (creating the messages on the way, one element in each repeated field); returns its path as the validator names it.</summary>
    private static string Set(IMessage message, FieldDescriptor[] path, int number)
    {
        var names = new List<string>();
        var current = message;
        for (var i = 0; i < path.Length; i++)
        {
            var field = path[i];
            var last = i == path.Length - 1;
            names.Add(field.IsRepeated ? field.Name + "[0]" : field.Name);
            if (last)
            {
                var value = Enum.ToObject(field.EnumType.ClrType, number);
                if (field.IsRepeated) ((IList)field.Accessor.GetValue(current)).Add(value);
                else field.Accessor.SetValue(current, value);
                break;
            }
            var next = (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
            if (field.IsRepeated) ((IList)field.Accessor.GetValue(current)).Add(next);
            else field.Accessor.SetValue(current, next);
            current = next;
        }
        return string.Join('.', names);
    }

    /// <summary>The message types on the current chain (ends cycles such as a message that holds itself).</summary>
    private sealed class ImmutableStack
    {
        private readonly MessageDescriptor? _head;
        private readonly ImmutableStack? _tail;

        private ImmutableStack(MessageDescriptor? head, ImmutableStack? tail) => (_head, _tail) = (head, tail);

        public static ImmutableStack Empty { get; } = new(null, null);

        public ImmutableStack Push(MessageDescriptor d) => new(d, this);

        public bool Contains(MessageDescriptor d) => _head == d || (_tail?.Contains(d) ?? false);
    }
}
