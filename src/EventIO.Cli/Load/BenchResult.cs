using System.Globalization;
using HdrHistogram;

namespace EventIO.Cli.Load;

/// <summary>What a load run measured, and how it is reported (readable lines and one key=value line, as echoload).</summary>
internal sealed class BenchResult
{
    internal BenchResult(LoadRun run, double setupSeconds)
    {
        Settings = run.Settings;
        SetupSeconds = setupSeconds;
        Seconds = run.StoppedAt > run.WindowStart ? LoadRun.ToSeconds(run.StoppedAt - run.WindowStart) : 0;
        EndedEarly = run.StoppedAt < run.WindowEnd;
        DrainTimedOut = run.DrainTimedOut;
        RoundTrips = run.Measured;
        RoundTripsPerSecond = Seconds > 0 ? run.Measured / Seconds : 0;
        LongHistogram h = run.Histogram;
        Samples = h.TotalCount;
        Max = LoadRun.ToMicroseconds(run.MaxLatency);
        P50 = Percentile(h, 50, Max);
        P90 = Percentile(h, 90, Max);
        P99 = Percentile(h, 99, Max);
        P999 = Percentile(h, 99.9, Max);
        Mean = h.TotalCount > 0 ? LoadRun.ToMicroseconds((long)h.GetMean()) : 0;
        Errors = run.Errors;
        Mismatches = run.Mismatches;
        Lost = run.Lost;
        Late = run.Late;
    }

    internal BenchSettings Settings { get; }

    internal double SetupSeconds { get; }

    /// <summary>Length of the measured window (shorter than asked if the run was cut short).</summary>
    internal double Seconds { get; }

    internal bool EndedEarly { get; }

    internal bool DrainTimedOut { get; }

    internal long RoundTrips { get; }

    internal double RoundTripsPerSecond { get; }

    internal long Samples { get; }

    internal double P50 { get; }

    internal double P90 { get; }

    internal double P99 { get; }

    internal double P999 { get; }

    internal double Max { get; }

    internal double Mean { get; }

    internal long Errors { get; }

    internal long Mismatches { get; }

    internal long Lost { get; }

    internal long Late { get; }

    /// <summary>0 clean; 2 errors, mismatches, or not one round trip (1, set-up failure, never gets here).</summary>
    internal int ExitCode => Errors > 0 || Mismatches > 0 || RoundTrips == 0 ? 2 : 0;

    internal void Print(TextWriter output, TextWriter diagnostics)
    {
        BenchSettings s = Settings;
        if (EndedEarly)
        {
            diagnostics.WriteLine($"eventio bench: the run ended early ({Seconds:0.00} s of {s.Duration.TotalSeconds:0.##} s measured)");
        }

        if (DrainTimedOut)
        {
            diagnostics.WriteLine("eventio bench: some echoes were still missing 1 s after the window (connections closed anyway)");
        }

        if (RoundTrips == 0)
        {
            diagnostics.WriteLine("eventio bench: no round trip completed in the measured window");
        }

        output.WriteLine(Invariant($"{s.ProtocolName} {s.Server}: {s.Connections} {(s.Protocol == BenchProtocol.Tcp ? "connections" : "sockets")} x {s.Size} B x pipeline {s.Pipeline}, {Seconds:0.00} s measured after {s.Warmup.TotalSeconds:0.##} s warm-up"));
        output.WriteLine(Invariant($"  {RoundTripsPerSecond:0} round trips/s ({RoundTrips} round trips, {RoundTripsPerSecond * s.Size / 1048576:0.00} MiB/s each way)"));
        output.WriteLine(Invariant($"  latency µs: p50 {P50:0.0}  p90 {P90:0.0}  p99 {P99:0.0}  p99.9 {P999:0.0}  max {Max:0.0}  ({Samples} samples)"));
        output.WriteLine(Invariant($"  errors {Errors}  mismatches {Mismatches}  lost {Lost}  late {Late}"));
        output.WriteLine(Invariant(
            $"rps={RoundTripsPerSecond:0} p50_us={P50:0.0} p90_us={P90:0.0} p99_us={P99:0.0} p999_us={P999:0.0} max_us={Max:0.0} errors={Errors} mismatches={Mismatches} lost={Lost} late={Late} mode={s.ProtocolName} conns={s.Connections} size={s.Size} pipeline={s.Pipeline} secs={Seconds:0.00} mean_us={Mean:0.0} connect_s={SetupSeconds:0.00}"));
    }

    // The histogram answers with the top of a bucket (within 0.1 %); never above the exact maximum.
    private static double Percentile(LongHistogram histogram, double percentile, double max)
        => histogram.TotalCount > 0 ? Math.Min(LoadRun.ToMicroseconds(histogram.GetValueAtPercentile(percentile)), max) : 0;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
