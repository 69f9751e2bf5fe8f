using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// What the wire format lets through and the contract does not: an enum number the contract does not define (proto3
/// enums are open, so C# keeps 99 as a value nobody handles). Walks a message by its descriptor, every enum field of
/// every nested message, repeated field, map and oneof, and names the first unknown one by its path
/// ("exam.questions[2].kind"). Applied to every request of every service in one place, the strict marshaller
/// (<see cref="StrictServiceMethodProvider{TService}"/>), so no handler can forget it.
/// </summary>
public static class ContractValidator
{
    private static readonly ConcurrentDictionary<MessageDescriptor, bool> HasEnums = new();

    /// <summary>The first field holding an enum number its enum does not define, as (path, sentence); null when none.</summary>
    public static (string Field, string Description)? FirstUnknownEnum(IMessage message) => Walk(message, prefix: string.Empty, depth: 0);

    /// <summary>Throws <see cref="InvalidRequestException"/> naming the field when a request holds an unknown enum number.</summary>
    public static void RequireKnownEnums(IMessage message)
    {
        if (FirstUnknownEnum(message) is { } unknown) throw new InvalidRequestException(unknown.Field, unknown.Description);
    }

    private static (string, string)? Walk(IMessage message, string prefix, int depth)
    {
        // Protobuf's own recursion limit: deeper messages are refused by the parser already.
        if (depth > 100 || !MayHoldEnums(message.Descriptor)) return null;
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.FieldType is not (FieldType.Enum or FieldType.Message or FieldType.Group)) continue;
            if (field.FieldType != FieldType.Enum && !MayHoldEnums(field.MessageType)) continue;
            var path = prefix + field.Name;
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    var itemPath = $"{path}[{Convert.ToString(entry.Key, CultureInfo.InvariantCulture)}]";
                    if (Check(valueField, entry.Value, itemPath, depth) is { } bad) return bad;
                }
            }
            else if (field.IsRepeated)
            {
                var i = 0;
                foreach (var item in (IList)value)
                {
                    if (Check(field, item, $"{path}[{i++}]", depth) is { } bad) return bad;
                }
            }
            else if (Check(field, value, path, depth) is { } bad)
            {
                return bad;
            }
        }
        return null;
    }

    private static (string, string)? Check(FieldDescriptor field, object? value, string path, int depth)
    {
        if (value is null) return null;
        if (field.FieldType == FieldType.Enum)
        {
            var number = Convert.ToInt32(value, CultureInfo.InvariantCulture);
            if (field.EnumType.FindValueByNumber(number) is not null) return null;
            var known = string.Join(", ", field.EnumType.Values.Select(v => $"{v.Name} ({v.Number})"));
            return (path, $"{number} is not a value of {field.EnumType.FullName}; known values: {known}.");
        }
        return value is IMessage nested ? Walk(nested, path + ".", depth + 1) : null;
    }

    /// <summary>Whether any enum field is reachable from a message type (cached; a type on the current path counts as no, which ends cycles).</summary>
    private static bool MayHoldEnums(MessageDescriptor descriptor) => MayHoldEnums(descriptor, []);

    private static bool MayHoldEnums(MessageDescriptor descriptor, HashSet<MessageDescriptor> visiting)
    {
        if (HasEnums.TryGetValue(descriptor, out var known)) return known;
        if (!visiting.Add(descriptor)) return false;
        var result = descriptor.Fields.InDeclarationOrder().Any(f =>
            f.FieldType == FieldType.Enum || (f.FieldType is FieldType.Message or FieldType.Group && MayHoldEnums(f.MessageType, visiting)));
        visiting.Remove(descriptor);
        // Only a complete answer is cached: an answer cut short by a cycle is recomputed from its own root.
        if (visiting.Count == 0 || result) HasEnums[descriptor] = result;
        return result;
    }
}
