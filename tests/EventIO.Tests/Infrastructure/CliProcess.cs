using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace EventIO.Tests.Infrastructure;

/// <summary>
/// Runs the built <c>eventio</c> command (EventIO.Cli.dll through <c>dotnet</c>) as a separate process,
/// collecting its output lines as they come so tests can wait for a line with a deadline.
/// </summary>
public sealed partial class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _stdoutLines = [];
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _stdout = new();

    private CliProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stdoutLines.CompleteAdding();
                return;
            }

            _stdout.Enqueue(e.Data);
            _stdoutLines.Add(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The path of EventIO.Cli.dll, built with the tests (see the test project file).</summary>
    public static string CliPath => BuiltPath("EventioCliPath");

    /// <summary>The path of the chat sample (samples/ChatServer), built with the tests.</summary>
    public static string ChatServerPath => BuiltPath("ChatServerPath");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardError => string.Join('\n', _stderr);

    public string StandardOutput => string.Join('\n', _stdout);

    /// <summary>Starts <c>eventio ARGS</c>.</summary>
    public static CliProcess Start(params string[] args) => Start(fileLimit: null, args);

    /// <summary>Starts <c>eventio ARGS</c> with RLIMIT_NOFILE lowered to <paramref name="fileLimit"/> (through the shell's ulimit).</summary>
    public static CliProcess Start(int? fileLimit, params string[] args) => Start(fileLimit, environment: null, args);

    /// <summary>Starts <c>eventio ARGS</c> with RLIMIT_NOFILE's soft and hard limits set apart (through the shell's ulimit).</summary>
    public static CliProcess StartWithLimits(int soft, int hard, params string[] args)
        => Start(fileLimit: null, environment: null, args, CliPath, executable: null, limits: $"ulimit -Sn {soft} && ulimit -Hn {hard}");

    /// <summary>
    /// Starts <c>eventio ARGS</c> with tiered compilation off, for tests that measure its memory: every method
    /// is compiled once, fully optimised, instead of being recompiled in the background at a moment that
    /// depends on the machine's load (a one-off 1–2 MiB that would blur a memory bound).
    /// </summary>
    public static CliProcess StartForMemoryMeasurement(params string[] args)
        => Start(fileLimit: null, new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" }, args);

    /// <summary>Starts the chat sample with <paramref name="args"/>, with tiered compilation off (its memory is measured).</summary>
    public static CliProcess StartChatSample(params string[] args)
        => Start(fileLimit: null, new Dictionary<string, string>
        {
            ["DOTNET_TieredCompilation"] = "0",
            ["DOTNET_GCgen0size"] = "0x400000", // a fixed 4 MiB gen0 budget: its memory measures the queues, not the GC's mood
        }, [ChatServerPath, .. args], program: null);

    private static string BuiltPath(string key)
    {
        string path = typeof(CliProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        path = Path.GetFullPath(path);
        Assert.True(File.Exists(path), $"{Path.GetFileName(path)} was not built at {path}.");
        return path;
    }

    private static CliProcess Start(int? fileLimit, Dictionary<string, string>? environment, string[] args)
        => Start(fileLimit, environment, args, CliPath);

    /// <summary>
    /// Starts <c>eventio ARGS</c> under <paramref name="wrapper"/>, a command that execs what follows it (say
    /// <c>taskset -c 0</c>, or <c>setpriv</c> to drop a capability): the process is then the server itself.
    /// </summary>
    public static CliProcess StartUnder(string[] wrapper, params string[] args)
    {
        var info = new ProcessStartInfo(wrapper[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in wrapper[1..])
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(CliPath);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new CliProcess(Process.Start(info) ?? throw new InvalidOperationException($"{wrapper[0]} did not start."));
    }

    /// <summary>Starts the executable at <paramref name="path"/> (a NativeAOT <c>eventio</c>, say) with <paramref name="args"/>.</summary>
    public static CliProcess StartExecutable(string path, params string[] args)
        => Start(fileLimit: null, environment: null, args, program: null, executable: path);

    /// <summary>Runs the executable at <paramref name="path"/> to completion (with a deadline) and returns it.</summary>
    public static CliProcess RunExecutable(string path, params string[] args)
    {
        CliProcess p = StartExecutable(path, args);
        p.WaitForExit(TestTimeouts.Passing);
        return p;
    }

    private static CliProcess Start(int? fileLimit, Dictionary<string, string>? environment, string[] args, string? program, string? executable = null, string? limits = null)
    {
        limits ??= fileLimit is int n ? $"ulimit -n {n}" : null;
        var info = new ProcessStartInfo(executable ?? (limits is null ? "dotnet" : "bash"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (limits is not null)
        {
            // exec: the process measured and signalled is the server itself, not the shell.
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"{limits} && exec dotnet \"$0\" \"$@\"");
        }

        if (program is not null)
        {
            info.ArgumentList.Add(program);
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string name, string value) in environment ?? [])
        {
            info.Environment[name] = value;
        }
        return new CliProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start."));
    }

    /// <summary>Runs <c>eventio ARGS</c> to completion (with a deadline) and returns it.</summary>
    public static CliProcess Run(params string[] args)
    {
        CliProcess p = Start(args);
        p.WaitForExit(TestTimeouts.Passing);
        return p;
    }

    /// <summary>Returns the next stdout line, failing if none comes before the deadline.</summary>
    public string ReadLine(TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? TestTimeouts.Passing;
        if (_stdoutLines.TryTake(out string? line, limit))
        {
            return line;
        }

        Assert.Fail($"No output line within {limit}. stderr: {StandardError}");
        return string.Empty;
    }

    /// <summary>
    /// Reads <c>serve</c>'s first <paramref name="expected"/> lines, <c>listening NAME 127.0.0.1:PORT</c>, and
    /// returns the port of each server by name (failing on any other line, or none before the deadline).
    /// </summary>
    public Dictionary<string, int> ReadListeners(int expected = 4)
    {
        var ports = new Dictionary<string, int>();
        while (ports.Count < expected)
        {
            string line = ReadLine();
            Match m = ListeningLine().Match(line);
            Assert.True(m.Success, $"unexpected line: {line}");
            ports[m.Groups[1].Value] = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        return ports;
    }

    /// <summary>The process's resident memory now (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        string line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The CPU time (user + system) the process has used so far, in seconds.</summary>
    public double CpuSeconds()
    {
        string stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ is 100 on Linux
    }

    /// <summary>Sends SIGTERM (or another signal) to the process.</summary>
    public void Signal(string signal = "TERM")
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Sends SIGTERM straight from this process (kill(2), no helper process): as fast as a signal can follow an event.</summary>
    public void SignalTermNow() => Assert.Equal(0, kill(_process.Id, 15));

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true if it did.</summary>
    public bool ExitsWithin(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Waits for the process to exit, failing after <paramref name="timeout"/>.</summary>
    public void WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Assert.Fail($"eventio did not exit within {timeout}. stderr: {StandardError}");
        }

        _process.WaitForExit(); // flush the asynchronous output readers
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [GeneratedRegex(@"^listening (udp-time|udp-echo|tcp-echo|udp-fib) 127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TestTimeouts.Passing);
        }

        _process.Dispose();
        _stdoutLines.Dispose();
    }
}
