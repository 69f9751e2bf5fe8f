using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>What came back from a raw call: the status (OK when it answered) and the bytes of the first reply.</summary>
public sealed record RawOutcome(Status Status, Metadata Trailers, byte[]? Reply)
{
    /// <summary>The status detail and every text trailer, for leak checks.</summary>
    public string Text => Status.Detail + "\n" + string.Join("\n", Trailers.Select(t => t.IsBinary ? System.Text.Encoding.UTF8.GetString(t.ValueBytes) : t.Value))
        + (Reply is null ? string.Empty : "\n" + System.Text.Encoding.UTF8.GetString(Reply));
}

/// <summary>
/// Every RPC of the contract, from the compiled descriptors, callable with raw request bytes (so a test can send
/// what no generated client would: mutated, truncated, oversized messages) in each of the four call shapes.
/// </summary>
public static class RawRpc
{
    /// <summary>Every service of the contract.</summary>
    public static IReadOnlyList<ServiceDescriptor> Services { get; } =
    [
        .. Vigil.Contracts.Identity.V1.IdentityReflection.Descriptor.Services,
        .. Vigil.Contracts.Session.V1.ExamReflection.Descriptor.Services,
        .. Vigil.Contracts.Session.V1.SessionReflection.Descriptor.Services,
        .. Vigil.Contracts.Session.V1.ReviewReflection.Descriptor.Services,
        .. Vigil.Contracts.Session.V1.ErasureReflection.Descriptor.Services,
        .. Vigil.Contracts.Certificate.V1.CertificateReflection.Descriptor.Services,
    ];

    /// <summary>Every method of every service.</summary>
    public static IReadOnlyList<MethodDescriptor> Methods { get; } = [.. Services.SelectMany(s => s.Methods)];

    /// <summary>The services reachable without a token (the public certificate verification).</summary>
    public static bool IsAnonymous(MethodDescriptor m) => m.Service.FullName == "vigil.certificate.v1.CertificateVerificationService";

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    /// <summary>Calls <paramref name="method"/> with one request of raw bytes and reads the first reply.</summary>
    public static Task<RawOutcome> CallAsync(GrpcChannel channel, MethodDescriptor method, byte[] request, TimeSpan timeout) =>
        CallAsync(channel.CreateCallInvoker(), method, request, timeout);

    /// <summary>Calls <paramref name="method"/> through <paramref name="invoker"/> with one request of raw bytes and reads the first reply.</summary>
    public static async Task<RawOutcome> CallAsync(CallInvoker invoker, MethodDescriptor method, byte[] request, TimeSpan timeout)
    {
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var rpc = new Method<byte[], byte[]>(type, method.Service.FullName, method.Name, Bytes, Bytes);
        var options = new CallOptions(deadline: DateTime.UtcNow + timeout);
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    {
                        using var call = invoker.AsyncUnaryCall(rpc, null, options, request);
                        var reply = await call.ResponseAsync;
                        return new RawOutcome(call.GetStatus(), call.GetTrailers(), reply);
                    }
                case MethodType.ServerStreaming:
                    {
                        using var call = invoker.AsyncServerStreamingCall(rpc, null, options, request);
                        byte[]? first = null;
                        if (await call.ResponseStream.MoveNext()) first = call.ResponseStream.Current;
                        return new RawOutcome(Status.DefaultSuccess, [], first);
                    }
                case MethodType.ClientStreaming:
                    {
                        using var call = invoker.AsyncClientStreamingCall(rpc, null, options);
                        await WriteAndCompleteAsync(call.RequestStream, request);
                        var reply = await call.ResponseAsync;
                        return new RawOutcome(call.GetStatus(), call.GetTrailers(), reply);
                    }
                default:
                    {
                        using var call = invoker.AsyncDuplexStreamingCall(rpc, null, options);
                        await WriteAndCompleteAsync(call.RequestStream, request);
                        byte[]? first = null;
                        if (await call.ResponseStream.MoveNext()) first = call.ResponseStream.Current;
                        return new RawOutcome(Status.DefaultSuccess, [], first);
                    }
            }
        }
        catch (RpcException ex)
        {
            return new RawOutcome(ex.Status, ex.Trailers, null);
        }
    }

    private static async Task WriteAndCompleteAsync(IClientStreamWriter<byte[]> writer, byte[] request)
    {
        try
        {
            await writer.WriteAsync(request);
            await writer.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
        {
            // The server already answered; the status is read from the response.
        }
    }

    /// <summary>
    /// A request for <paramref name="method"/> aimed at someone's data: every field named like an id the caller
    /// gives is filled from <paramref name="ids"/> (learner_id, session_id, exam_id, course_id…), request_id fresh.
    /// </summary>
    public static IMessage Request(MethodDescriptor method, IReadOnlyDictionary<string, string> ids)
    {
        var message = method.InputType.Parser.ParseFrom(ByteString.Empty);
        Fill(message, ids, depth: 0);
        return message;
    }

    /// <summary>
    /// Makes a request well-formed apart from who sends it, so an authorization check is what refuses it: unset
    /// enums get their first real value, empty texts a word, durations ten minutes, an exam the template's copy.
    /// </summary>
    public static void Plausible(IMessage message, Google.Protobuf.WellKnownTypes.Duration duration, Vigil.Contracts.Session.V1.Exam? examTemplate, int depth = 0)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsRepeated || field.IsMap) continue;
            var value = field.Accessor.GetValue(message);
            switch (field.FieldType)
            {
                // A reason stays unset: a valid decision must not carry one.
                case FieldType.Enum when field.Name != "reason" && Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) == 0 && field.EnumType.Values.Count > 1:
                    field.Accessor.SetValue(message, field.EnumType.Values[1].Number);
                    break;
                case FieldType.String when value is "" && field.RealContainingOneof is null && !field.Name.EndsWith("_id", StringComparison.Ordinal) && !field.Name.EndsWith("_token", StringComparison.Ordinal):
                    field.Accessor.SetValue(message, "fault drill");
                    break;
                case FieldType.Message when field.MessageType.FullName == "google.protobuf.Duration" && value is null:
                    field.Accessor.SetValue(message, duration.Clone());
                    break;
                case FieldType.Message when field.MessageType.FullName == "vigil.session.v1.Exam" && examTemplate is not null:
                    field.Accessor.SetValue(message, examTemplate.Clone());
                    break;
                case FieldType.Message when value is IMessage child && depth < 2 && child.Descriptor.FullName.StartsWith("vigil.", StringComparison.Ordinal):
                    Plausible(child, duration, examTemplate, depth + 1);
                    break;
            }
        }
    }

    private static void Fill(IMessage message, IReadOnlyDictionary<string, string> ids, int depth)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsRepeated || field.IsMap) continue;
            if (field.FieldType == FieldType.String)
            {
                if (field.Name == "request_id") field.Accessor.SetValue(message, Guid.NewGuid().ToString("N"));
                else if (ids.TryGetValue(field.Name, out var v)) field.Accessor.SetValue(message, v);
            }
            else if (field.FieldType == FieldType.Message && depth < 2 && field.RealContainingOneof is null
                && field.MessageType.FullName.StartsWith("vigil.", StringComparison.Ordinal))
            {
                var child = field.MessageType.Parser.ParseFrom(ByteString.Empty);
                Fill(child, ids, depth + 1);
                field.Accessor.SetValue(message, child);
            }
        }
        // The first member of a oneof of messages (e.g. the exam stream's Open, the upload's metadata).
        foreach (var oneof in message.Descriptor.Oneofs.Where(o => !o.IsSynthetic))
        {
            var first = oneof.Fields.FirstOrDefault(f => f.FieldType == FieldType.Message);
            if (first is null || depth >= 2) continue;
            var child = first.MessageType.Parser.ParseFrom(ByteString.Empty);
            Fill(child, ids, depth + 1);
            first.Accessor.SetValue(message, child);
        }
    }
}
