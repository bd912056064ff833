using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Hosting;

/// <summary>
/// The key-value sample as systemd runs it (Type=notify): a process whose parent is named <c>systemd</c> (how
/// Microsoft.Extensions.Hosting.Systemd recognises it) with a fake <c>NOTIFY_SOCKET</c>. It tells READY=1 once
/// listening, serves, tells STOPPING=1 on SIGTERM, closes its connections cleanly and exits 0; configuration comes
/// from appsettings.json and the environment, and OpenTelemetry's console exporter prints the EventIO meter.
/// </summary>
public sealed partial class KeyValueSampleTests
{
    [Fact]
    public void UnderSystemd_ReadyOnceListening_Serves_StoppingOnSigterm_ClosesCleanly_ExitsZero()
    {
        string dir = Directory.CreateTempSubdirectory("eventio-systemd-").FullName;
        try
        {
            string notifyPath = Path.Combine(dir, "notify");
            using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
            notify.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
            string systemd = Path.Combine(dir, "systemd");
            File.CreateSymbolicLink(systemd, "/bin/bash"); // the parent's name is what the host checks

            var info = new ProcessStartInfo(systemd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("dotnet \"$0\" & child=$!; echo \"pid $child\"; wait $child");
            info.ArgumentList.Add(KeyValueServerPath);
            info.Environment["NOTIFY_SOCKET"] = notifyPath;
            info.Environment["EventIO__Servers__kv__Port"] = "0";            // the environment over appsettings.json's 7379
            info.Environment["EventIO__Loops"] = "2";
            info.Environment["Telemetry__ConsoleExporter"] = "true";
            info.Environment["Telemetry__ExportInterval"] = "00:00:00.200";
            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using Process parent = Process.Start(info)!;
            var lines = new BlockingCollection<string>();
            var all = new ConcurrentQueue<string>();
            parent.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    all.Enqueue(line);
                    lines.Add(line);
                }
            };
            parent.ErrorDataReceived += (_, e) => all.Enqueue("stderr: " + e.Data);
            parent.BeginOutputReadLine();
            parent.BeginErrorReadLine();
            try
            {
                int pid = int.Parse(Expect(lines, all, PidLine()).Groups[1].Value, CultureInfo.InvariantCulture);
                int port = int.Parse(Expect(lines, all, ListeningLine()).Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.Contains("READY=1", ReceiveNotification(notify), StringComparison.Ordinal);

                using Socket client = Loopback.TcpConnect(new IPEndPoint(IPAddress.Loopback, port));
                Assert.Equal("OK", Exchange(client, "SET answer 42"));
                Assert.Equal("VALUE 42", Exchange(client, "GET answer"));
                Assert.Equal("PONG", Exchange(client, "PING"));
                Eventually.True(() => all.Any(l => l.Contains("eventio.tcp.active_connections", StringComparison.Ordinal)), because: "OpenTelemetry's console exporter should print the EventIO meter");

                Assert.Equal(0, kill(pid, 15)); // SIGTERM, as systemctl stop
                Assert.Contains("STOPPING=1", ReceiveNotification(notify), StringComparison.Ordinal);
                ServerTestSupport.AssertEndOfStream(client); // closed cleanly, not reset
                Assert.True(parent.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(10))), string.Join('\n', all));
                parent.WaitForExit();
                Assert.Equal(0, parent.ExitCode);
                Assert.Contains(all, l => l.Contains("EventIO stopped", StringComparison.Ordinal));
            }
            finally
            {
                if (!parent.HasExited)
                {
                    parent.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string KeyValueServerPath => Path.GetFullPath(typeof(KeyValueSampleTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "KeyValueServerPath").Value!);

    private static Match Expect(BlockingCollection<string> lines, ConcurrentQueue<string> all, Regex pattern)
    {
        var deadline = Stopwatch.StartNew();
        while (lines.TryTake(out string? line, TestTimeouts.Passing - deadline.Elapsed))
        {
            if (pattern.Match(line) is { Success: true } match)
            {
                return match;
            }
        }

        Assert.Fail($"no line matching {pattern}; output:\n{string.Join('\n', all)}");
        return Match.Empty;
    }

    private static string ReceiveNotification(Socket notify)
    {
        var buffer = new byte[4096];
        return Encoding.ASCII.GetString(buffer, 0, notify.Receive(buffer));
    }

    private static string Exchange(Socket client, string command)
    {
        client.Send(Encoding.UTF8.GetBytes(command + "\n"));
        var reply = new StringBuilder();
        var one = new byte[1];
        while (client.Receive(one) == 1 && one[0] != '\n')
        {
            reply.Append((char)one[0]);
        }

        return reply.ToString();
    }

    [GeneratedRegex(@"^pid (\d+)$")]
    private static partial Regex PidLine();

    [GeneratedRegex(@"listening kv tcp 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
