using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary>
/// The NativeAOT <c>eventio</c>, published as the README says, serves the recipe's four servers and stops on
/// SIGTERM with exit code 0. Slow (the publish takes 1–2 minutes on a 2-core machine), so not in every run:
/// <c>EVENTIO_SLOW_TESTS=1 dotnet test --filter Category=Slow</c>. Every build checks the same code with the
/// trim and AOT analyzers (IsAotCompatible, warnings as errors); this test also runs the AOT compiler itself.
/// </summary>
public sealed partial class NativeAotTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("eventio-aot-").FullName;

    [GeneratedRegex(@"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \d{4}$")]
    private static partial Regex CTime();

    [SlowFact]
    [Trait("Category", "Slow")]
    public void PublishAot_WithoutWarnings_ServesAllFour_AndExitsZeroOnSigterm()
    {
        string executable = PublishAot();

        using CliProcess serve = CliProcess.StartExecutable(executable, "serve", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2");
        Dictionary<string, int> ports = serve.ReadListeners();
        using (Socket udp = Loopback.UdpClient())
        {
            Assert.Matches(CTime(), Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-time"]), []));
            Assert.Equal("hello", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-echo"]), "hello"u8));
            Assert.Equal("89", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]), "10"u8));
        }

        using (Socket tcp = Loopback.TcpConnect(new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"])))
        {
            tcp.Send("over tcp"u8);
            Assert.Equal("over tcp"u8.ToArray(), Loopback.ReceiveExactly(tcp, 8));
        }

        // The native clients too (System.CommandLine, sockets, the usage-error path).
        using (CliProcess fib = CliProcess.RunExecutable(executable, "fib", "0..5", "--port", ports["udp-fib"].ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            Assert.Equal(0, fib.ExitCode);
            Assert.Equal(["1", "1", "2", "3", "5", "8"], fib.StandardOutput.Split('\n'));
        }

        using (CliProcess bad = CliProcess.RunExecutable(executable, "serve", "--workers", "0"))
        {
            UsageErrors.AssertUsageError(bad, "eventio serve");
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    // The README's command, into a private output and artifacts folder: nothing of the repository's own
    // bin/ and obj/ (which the running tests use) is touched.
    private string PublishAot()
    {
        string project = Path.Combine(Repository.Root, "src", "EventIO.Cli");
        string output = Path.Combine(_work, "out");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output, "--artifacts-path", Path.Combine(_work, "build"), "--nologo"])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using Process publish = Process.Start(info)!;
        Task<string> stdout = publish.StandardOutput.ReadToEndAsync();
        Task<string> stderr = publish.StandardError.ReadToEndAsync();
        TimeSpan limit = TestTimeouts.Scale(TimeSpan.FromMinutes(10));
        if (!publish.WaitForExit(limit))
        {
            publish.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet publish -p:PublishAot=true took longer than {limit}");
        }

        string log = stdout.Result + stderr.Result;
        Assert.True(publish.ExitCode == 0, $"dotnet publish -p:PublishAot=true failed:\n{log}");
        Assert.DoesNotContain(": warning ", log, StringComparison.Ordinal);
        string executable = Path.Combine(output, "eventio");
        Assert.True(File.Exists(executable), $"no {executable} after publishing");
        return executable;
    }
}
