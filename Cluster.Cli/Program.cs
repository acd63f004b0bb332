using Cluster.Cli;

return await CommandLine.RunAsync(args, CliEnvironment.Process());
