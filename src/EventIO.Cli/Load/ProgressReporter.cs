using System.Diagnostics;
using System.Runtime.Versioning;

namespace EventIO.Cli.Load;

/// <summary>One line on stderr every second of warm-up and measurement: elapsed time, the last second's rate, failures so far.</summary>
[SupportedOSPlatform("linux")]
internal sealed class ProgressReporter
{
    private readonly LoadRun _run;
    private long _lastAt;
    private long _lastCompleted;
    private int _lines;

    internal ProgressReporter(LoadRun run)
    {
        _run = run;
        _lastAt = run.StartedAt;
    }

    /// <summary>Arms the first line, one second after the run started.</summary>
    internal void Start() => ScheduleNext(Stopwatch.GetTimestamp());

    private void Tick()
    {
        if (_run.Stopping)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        double seconds = LoadRun.ToSeconds(now - _lastAt);
        double rate = seconds > 0 ? (_run.Completed - _lastCompleted) / seconds : 0;
        string phase = _lastAt < _run.WindowStart ? "warm-up" : "measuring"; // of the second that just ended
        _lastAt = now;
        _lastCompleted = _run.Completed;
        string udp = _run.Settings.Protocol == BenchProtocol.Udp ? $"  lost {_run.Lost}  late {_run.Late}" : string.Empty;
        Console.Error.WriteLine(
            $"eventio bench: {LoadRun.ToSeconds(now - _run.StartedAt),5:0.0} s  {phase,-9}  {rate,9:0} round trips/s  errors {_run.Errors}  mismatches {_run.Mismatches}{udp}");
        _lines++;
        ScheduleNext(now);
    }

    // Lines at whole seconds since the start, whatever each one cost.
    private void ScheduleNext(long now)
    {
        long due = _run.StartedAt + ((_lines + 1) * Stopwatch.Frequency);
        _run.Loop.CallLater(TimeSpan.FromSeconds(LoadRun.ToSeconds(Math.Max(0, due - now))), static s => ((ProgressReporter)s!).Tick(), this);
    }
}
