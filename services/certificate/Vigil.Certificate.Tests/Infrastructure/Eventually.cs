using System.Collections.Concurrent;
using Grpc.Core;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using StackExchange.Redis;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;

namespace Vigil.Certificate.Tests.Infrastructure;

/// <summary>Polls until a condition holds (events are asynchronous), failing with a description after a timeout.</summary>
public static class Eventually
{
    public static Task Async(Func<Task<bool>> condition, string what) => Async(condition, () => what);

    public static async Task Async(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable) { }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) { } // e.g. the error queue does not exist yet
            if (DateTime.UtcNow > until) throw new TimeoutException("Timed out waiting for " + what());
            await Task.Delay(50);
        }
    }
}
