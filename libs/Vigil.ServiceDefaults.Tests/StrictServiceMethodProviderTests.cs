using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// The guard on the one place Vigil relies on grpc-dotnet's internals: its binder, found by name and replaced by
/// the strict one (malformed requests are InvalidArgument). A grpc-dotnet upgrade that renames or moves the
/// binder, or changes what it puts on an endpoint, fails here, before anything is bound differently in production.
/// </summary>
public sealed class StrictServiceMethodProviderTests
{
    [Fact]
    public void Grpc_dotnets_binder_is_still_where_the_replacement_looks_for_it()
    {
        var binder = typeof(GrpcServiceOptions).Assembly.GetType(StrictServiceMethodProvider.GrpcBinderTypeName);
        Assert.NotNull(binder);
        Assert.Contains(binder.GetInterfaces(), i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IServiceMethodProvider<>));
    }

    [Fact]
    public void After_the_replacement_the_strict_binder_binds_generated_services_instead_of_grpc_dotnets()
    {
        var services = new ServiceCollection();
        services.AddGrpc();
        StrictServiceMethodProvider.ReplaceGrpcBinder(services);
        var binders = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)).Select(d => d.ImplementationType).ToList();
        Assert.Single(binders, t => t == typeof(StrictServiceMethodProvider<>));
        Assert.DoesNotContain(binders, t => t?.FullName == StrictServiceMethodProvider.GrpcBinderTypeName);
        // Twice is a mistake, not a no-op: the second call finds no grpc-dotnet binder and says so.
        var ex = Assert.Throws<InvalidOperationException>(() => StrictServiceMethodProvider.ReplaceGrpcBinder(services));
        Assert.Contains("BinderServiceMethodProvider", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_strict_binder_maps_the_same_endpoints_with_the_same_metadata_as_grpc_dotnets()
    {
        var byGrpc = Endpoints(strict: false);
        var byVigil = Endpoints(strict: true);
        Assert.NotEmpty(byGrpc);
        Assert.Equal(byGrpc, byVigil);
    }

    /// <summary>Each endpoint of the probe service: its route and the kinds of metadata on it (sorted).</summary>
    private static List<string> Endpoints(bool strict)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddGrpc();
        if (strict) StrictServiceMethodProvider.ReplaceGrpcBinder(builder.Services);
        var app = builder.Build();
        app.MapGrpcService<ProbeServiceImpl>();
        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(d => d.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText + " | " + string.Join(", ", e.Metadata.Select(m => m.GetType().FullName).Order(StringComparer.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
