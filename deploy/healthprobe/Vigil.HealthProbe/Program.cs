using Vigil.HealthProbe;

return await Probe.RunAsync(args, Console.Error, CancellationToken.None);
