using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/EventIO.Benchmarks -- --filter '*Dispatch*' --job short
// See bench/MICROBENCHMARKS.md for the commands and the figures.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
