using Vigil.Bench.Load;
using Vigil.Bench.Orchestration;
using Vigil.Bench.Servers;

// Vigil.Bench: "run" (default) orchestrates; "worker" and "echo-server" are the processes it starts.
return args.FirstOrDefault() switch
{
    "worker" => await StreamWorker.RunAsync(args),
    "echo-server" => await EchoServer.RunAsync(args),
    "check-smoke" => SmokeCheck.Run(args),
    _ => await Runner.RunAsync(args),
};
