using Grpc.Core;
using Vigil.Cli.Cli;
using Vigil.Cli.Commands;

Console.OutputEncoding = System.Text.Encoding.UTF8;
var parsed = new Args(args);
var output = new Output(parsed.Has("json"));
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
try
{
    return await Commands.RunAsync(parsed, output, cts.Token);
}
catch (UsageException ex)
{
    Console.Error.WriteLine("vigil: " + ex.Message);
    Console.Error.WriteLine("Run `vigil --help` for the commands.");
    return 2;
}
catch (RpcException ex)
{
    if (output.Json) output.Emit(Errors.ToJson(ex));
    else foreach (var line in Errors.Describe(ex)) Console.Error.WriteLine("  ✘ " + line);
    return 1;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    return 130;
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or FormatException or Google.Protobuf.InvalidProtocolBufferException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine("vigil: " + ex.Message);
    return 1;
}
