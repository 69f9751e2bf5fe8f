using Vigil.Bench.Orchestration;

// Vigil.Bench: "run" orchestrates (bench/run.sh); "worker" and "echo-server" are the processes it starts; "check-smoke"
// checks a smoke run; "photo-stages" times the identity service's photo check stage by stage (Photos/PhotoStages.cs);
// "review-paging" pages the board's review list of a 20,000-session course against the real session service
// (Review/ReviewPaging.cs). The flags: Orchestration/BenchCommandLine.cs, or --help on any command.
return await BenchCommandLine.RunAsync(args);
