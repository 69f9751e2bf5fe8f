using Grpc.Net.Client;

namespace Vigil.Testing;

/// <summary>
/// Where a test's calls go: an in-process host (<see cref="VigilServiceFactory{TEntryPoint}"/>), a service or
/// gateway run as a process (<see cref="ServiceProcess"/>), or a whole stack's gateway (<see cref="ProcessStack"/>).
/// </summary>
public interface IGrpcEndpoint
{
    /// <summary>A new gRPC channel to the endpoint sending <paramref name="token"/> on every call (none when null); the caller disposes it.</summary>
    GrpcChannel Channel(string? token);
}
