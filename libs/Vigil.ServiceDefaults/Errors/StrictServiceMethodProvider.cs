using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Vigil.ServiceDefaults.Errors;

/// <summary>Installs <see cref="StrictServiceMethodProvider{TService}"/> in place of grpc-dotnet's own binder.</summary>
internal static class StrictServiceMethodProvider
{
    /// <summary>
    /// grpc-dotnet's binder: internal to Grpc.AspNetCore.Server, so found by its name. If an upgrade renames or
    /// moves it, every service refuses to start (and <c>StrictServiceMethodProviderTests</c> says why) rather than
    /// silently binding every service twice or not strictly.
    /// </summary>
    internal const string GrpcBinderTypeName = "Grpc.AspNetCore.Server.Model.Internal.BinderServiceMethodProvider`1";

    /// <summary>Replaces grpc-dotnet's binder (registered by AddGrpc) with the strict one.</summary>
    public static void ReplaceGrpcBinder(IServiceCollection services)
    {
        var grpcBinder = typeof(GrpcServiceOptions).Assembly.GetType(GrpcBinderTypeName, throwOnError: false);
        var registered = services
            .Where(d => d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType == grpcBinder && grpcBinder is not null)
            .ToList();
        if (registered.Count != 1)
        {
            throw new InvalidOperationException(
                $"grpc-dotnet's binder ({GrpcBinderTypeName}) is not registered once by AddGrpc (found {registered.Count}): this grpc-dotnet " +
                "version binds services differently; check StrictServiceMethodProvider against it before upgrading.");
        }
        services.Remove(registered[0]);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(StrictServiceMethodProvider<>));
    }
}

/// <summary>
/// Binds gRPC services like grpc-dotnet's own binder, but with request marshallers that turn bytes which are
/// not a valid message into InvalidArgument. grpc-dotnet reads a unary request before any interceptor runs
/// and reports a parse failure as Unknown ("Exception was thrown by handler."); a malformed request is the
/// caller's fault and must say so. The same marshaller holds every request (and every message of a request
/// stream) to the contract's enums (<see cref="ContractValidator"/>): an unknown enum number is InvalidArgument
/// naming the field, before any handler sees it.
/// </summary>
internal sealed class StrictServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bind = FindBindMethod(typeof(TService));
        if (bind is null) return;
        var binder = new Binder(context);
        bind.Invoke(null, [binder, null]);
    }

    private static MethodInfo? FindBindMethod(Type serviceType)
    {
        for (var t = serviceType; t is not null; t = t.BaseType)
        {
            var attribute = t.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false);
            if (attribute is null) continue;
            return attribute.BindType.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                .FirstOrDefault(m => m.Name == attribute.BindMethodName && m.GetParameters() is { Length: 2 } p && p[0].ParameterType == typeof(ServiceBinderBase));
        }
        return null;
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Strict(method), Metadata(method.Name, typeof(TRequest), typeof(ServerCallContext)),
                Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Strict(method), Metadata(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)),
                Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Strict(method), Metadata(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)),
                Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Strict(method), Metadata(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)),
                Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        private static MethodInfo Handler(string name, Type[] parameters) =>
            typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters)
            ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {name}.");

        private static TDelegate Invoker<TDelegate>(string name, params Type[] parameters) where TDelegate : Delegate =>
            (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), Handler(name, parameters));

        // The same endpoint metadata grpc-dotnet gives: the service's and the method's attributes ([Authorize]…), POST only.
        private static List<object> Metadata(string name, params Type[] parameters)
        {
            var metadata = new List<object>();
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(Handler(name, parameters).GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return metadata;
        }

        private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
        {
            var inner = method.RequestMarshaller;
            var strict = new Marshaller<TRequest>(
                inner.ContextualSerializer,
                ctx =>
                {
                    TRequest request;
                    try
                    {
                        request = inner.ContextualDeserializer(ctx);
                    }
                    catch (InvalidProtocolBufferException)
                    {
                        // The marshaller runs before any interceptor: the mapping is called here directly.
                        throw GrpcErrors.ToRpcException(new InvalidRequestException("request", $"The request is not a valid {typeof(TRequest).Name}."));
                    }
                    if (request is IMessage message && ContractValidator.FirstUnknownEnum(message) is { } unknown)
                    {
                        throw GrpcErrors.ToRpcException(new InvalidRequestException(unknown.Field, unknown.Description));
                    }
                    return request;
                });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, strict, method.ResponseMarshaller);
        }
    }
}
