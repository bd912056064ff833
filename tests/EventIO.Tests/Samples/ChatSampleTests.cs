using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Samples;

/// <summary>The README's chat server, run as a process: join, talk, /nick, /fib on the pool, too-long lines, SIGTERM.</summary>
public sealed partial class ChatSampleTests
{
    [Fact]
    public void Members_Talk_Rename_AskTheWorkerPool_AndTheServerStopsGracefully()
    {
        using CliProcess chat = CliProcess.StartChatSample("0");
        Match listening = ListeningLine().Match(chat.ReadLine());
        Assert.True(listening.Success);
        var server = new IPEndPoint(IPAddress.Loopback, int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        using var alice = new LineClient(server);
        Assert.Equal("* welcome, guest1", alice.ReadLine());
        Assert.Equal("* guest1 joined", alice.ReadLine());
        using var bob = new LineClient(server);
        Assert.Equal("* welcome, guest2", bob.ReadLine());
        Assert.Equal("* guest2 joined", bob.ReadLine());
        Assert.Equal("* guest2 joined", alice.ReadLine());

        alice.Say("/nick alice");
        Assert.Equal("* guest1 is now alice", bob.ReadLine());
        alice.Say("hello, bob");
        Assert.Equal("alice: hello, bob", bob.ReadLine());
        bob.Say("/fib 25");
        Assert.Equal("* fib(25) = 121393", bob.ReadLine());
        bob.Say(new string('z', 2000));
        Assert.Equal("* line too long (at most 1024 bytes)", bob.ReadLine());

        alice.Dispose();
        Assert.Equal("* alice left", bob.ReadLine());

        chat.Signal("TERM");
        Assert.Null(bob.ReadLine()); // its queue flushed, then the end of the stream
        chat.WaitForExit(TestTimeouts.Passing);
        Assert.Equal(0, chat.ExitCode);
        Assert.Contains("stopped", chat.StandardOutput, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^listening chat 127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();

    private sealed class LineClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly StreamReader _reader;

        public LineClient(IPEndPoint server)
        {
            _socket = Loopback.TcpConnect(server);
            _socket.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
            _reader = new StreamReader(new NetworkStream(_socket), Encoding.UTF8);
        }

        public string? ReadLine() => _reader.ReadLine();

        public void Say(string text) => _socket.Send(Encoding.UTF8.GetBytes(text + "\n"));

        public void Dispose()
        {
            _reader.Dispose();
            _socket.Dispose();
        }
    }
}
