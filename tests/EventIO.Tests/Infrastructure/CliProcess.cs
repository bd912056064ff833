using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace EventIO.Tests.Infrastructure;

/// <summary>
/// Runs the built <c>eventio</c> command (EventIO.Cli.dll through <c>dotnet</c>) as a separate process,
/// collecting its output lines as they come so tests can wait for a line with a deadline.
/// </summary>
public sealed class CliProcess : IDisposable
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
    public static string CliPath
    {
        get
        {
            string path = typeof(CliProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "EventioCliPath").Value!;
            path = Path.GetFullPath(path);
            Assert.True(File.Exists(path), $"The eventio command was not built at {path}.");
            return path;
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardError => string.Join('\n', _stderr);

    public string StandardOutput => string.Join('\n', _stdout);

    /// <summary>Starts <c>eventio ARGS</c>.</summary>
    public static CliProcess Start(params string[] args) => Start(fileLimit: null, args);

    /// <summary>Starts <c>eventio ARGS</c> with RLIMIT_NOFILE lowered to <paramref name="fileLimit"/> (through the shell's ulimit).</summary>
    public static CliProcess Start(int? fileLimit, params string[] args)
    {
        var info = new ProcessStartInfo(fileLimit is null ? "dotnet" : "bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (fileLimit is int limit)
        {
            // exec: the process measured and signalled is the server itself, not the shell.
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"ulimit -n {limit} && exec dotnet \"$0\" \"$@\"");
        }

        info.ArgumentList.Add(CliPath);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
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

    /// <summary>Sends SIGTERM (or another signal) to the process.</summary>
    public void Signal(string signal = "TERM")
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to exit, failing after <paramref name="timeout"/>.</summary>
    public void WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Assert.Fail($"eventio did not exit within {timeout}. stderr: {StandardError}");
        }

        _process.WaitForExit(); // flush the asynchronous output readers
    }

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
