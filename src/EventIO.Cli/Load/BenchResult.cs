using System.Buffers;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace EventIO.Cli.Load;

/// <summary>What a load run measured, and how it is reported (readable lines and one key=value line, as echoload).</summary>
[SupportedOSPlatform("linux")]
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

    /// <summary>0 clean; 1 errors, mismatches, or not one round trip (as a set-up failure, which never gets here).</summary>
    internal int ExitCode => Errors > 0 || Mismatches > 0 || RoundTrips == 0 ? ExitCodes.Failure : ExitCodes.Ok;

    /// <summary>What went wrong with the run itself, if anything, one line each.</summary>
    internal void ReportProblems(TextWriter diagnostics)
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
    }

    /// <summary>The readable lines, then one key=value line (echoload's keys).</summary>
    internal void Print(TextWriter output)
    {
        BenchSettings s = Settings;
        output.WriteLine(Invariant($"{s.ProtocolName} {s.Server}: {s.Connections} {(s.Protocol == BenchProtocol.Tcp ? "connections" : "sockets")} x {s.Size} B x pipeline {s.Pipeline}, {Seconds:0.00} s measured after {s.Warmup.TotalSeconds:0.##} s warm-up"));
        output.WriteLine(Invariant($"  {RoundTripsPerSecond:0} round trips/s ({RoundTrips} round trips, {RoundTripsPerSecond * s.Size / 1048576:0.00} MiB/s each way)"));
        output.WriteLine(Invariant($"  latency µs: p50 {P50:0.0}  p90 {P90:0.0}  p99 {P99:0.0}  p99.9 {P999:0.0}  max {Max:0.0}  ({Samples} samples)"));
        output.WriteLine(Invariant($"  errors {Errors}  mismatches {Mismatches}  lost {Lost}  late {Late}"));
        output.WriteLine(Invariant(
            $"rps={RoundTripsPerSecond:0} p50_us={P50:0.0} p90_us={P90:0.0} p99_us={P99:0.0} p999_us={P999:0.0} max_us={Max:0.0} errors={Errors} mismatches={Mismatches} lost={Lost} late={Late} mode={s.ProtocolName} conns={s.Connections} size={s.Size} pipeline={s.Pipeline} secs={Seconds:0.00} mean_us={Mean:0.0} connect_s={SetupSeconds:0.00}"));
    }

    /// <summary>
    /// One JSON object with every figure: the run's settings, then what it measured (latencies in µs, durations
    /// in seconds). The keys are the key=value line's, plus the ones that line leaves out.
    /// </summary>
    internal void WriteJson(TextWriter output)
    {
        BenchSettings s = Settings;
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("mode", s.ProtocolName);
            json.WriteString("host", s.Server.Address.ToString());
            json.WriteNumber("port", s.Server.Port);
            json.WriteNumber("conns", s.Connections);
            json.WriteNumber("size", s.Size);
            json.WriteNumber("pipeline", s.Pipeline);
            json.WriteNumber("duration_s", s.Duration.TotalSeconds);
            json.WriteNumber("warmup_s", s.Warmup.TotalSeconds);
            json.WriteNumber("timeout_s", s.Timeout.TotalSeconds);
            json.WriteNumber("secs", Round(Seconds, 3));
            json.WriteNumber("connect_s", Round(SetupSeconds, 3));
            json.WriteNumber("round_trips", RoundTrips);
            json.WriteNumber("rps", Round(RoundTripsPerSecond, 1));
            json.WriteNumber("mib_per_s", Round(RoundTripsPerSecond * s.Size / 1048576, 3));
            json.WriteNumber("samples", Samples);
            json.WriteNumber("p50_us", Round(P50, 1));
            json.WriteNumber("p90_us", Round(P90, 1));
            json.WriteNumber("p99_us", Round(P99, 1));
            json.WriteNumber("p999_us", Round(P999, 1));
            json.WriteNumber("max_us", Round(Max, 1));
            json.WriteNumber("mean_us", Round(Mean, 1));
            json.WriteNumber("errors", Errors);
            json.WriteNumber("mismatches", Mismatches);
            json.WriteNumber("lost", Lost);
            json.WriteNumber("late", Late);
            json.WriteBoolean("ended_early", EndedEarly);
            json.WriteBoolean("drain_timed_out", DrainTimedOut);
            json.WriteNumber("exit_code", ExitCode);
            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    // The histogram answers with the top of a bucket (within 0.1 %); never above the exact maximum.
    private static double Percentile(LongHistogram histogram, double percentile, double max)
        => histogram.TotalCount > 0 ? Math.Min(LoadRun.ToMicroseconds(histogram.GetValueAtPercentile(percentile)), max) : 0;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
