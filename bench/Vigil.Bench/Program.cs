using Vigil.Bench.Load;
using Vigil.Bench.Orchestration;
using Vigil.Bench.Photos;
using Vigil.Bench.Review;
using Vigil.Bench.Servers;

// Vigil.Bench: "run" (default) orchestrates; "worker" and "echo-server" are the processes it starts;
// "photo-stages" times the identity service's photo check stage by stage (Photos/PhotoStages.cs); "review-paging"
// pages the board's review list of a 20,000-session course against the real session service (Review/ReviewPaging.cs).
return args.FirstOrDefault() switch
{
    "worker" => await StreamWorker.RunAsync(args),
    "echo-server" => await EchoServer.RunAsync(args),
    "check-smoke" => SmokeCheck.Run(args),
    "photo-stages" => await PhotoStages.RunAsync(args),
    "review-paging" => await ReviewPaging.RunAsync(args),
    _ => await Runner.RunAsync(args),
};
