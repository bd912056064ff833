using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Net;
using EventIO.Tests.Hostile;
using EventIO.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventIO.Tests.Samples;

/// <summary>
/// Fan-out on the chat sample (samples/ChatServer), a separate process with the obvious broadcast loop and
/// no per-member checks: one member never reads while another broadcasts megabytes to the room. The send
/// cap closes the silent member, so the server's memory stays within a few MiB of the cap, and everyone
/// else gets every line, in order.
/// </summary>
[Collection(HostileHeavyDefinition.Name)]
public sealed partial class ChatFanOutTests(ITestOutputHelper output)
{
    private const int Lines = 24 * 1024;   // 24 MiB of 1 KiB lines: six times the cap
    private const int LineLength = 1000;

    // One member's cap plus slack for the runtime's own noise (the chat makes strings for every line; with a fixed
    // gen0 budget and pinned send segments the growth measures +4.3 MiB on both backends, run after run). Without
    // the cap the silent member's queue would hold every line: the whole 24 MiB.
    private static readonly long s_allowedGrowth = TcpConnectionOptions.Default.MaxQueuedBytes + (3L << 20);

    [Fact]
    public void OneMemberNeverReads_WhileAnotherBroadcastsMegabytes_MemoryStaysNearTheCap_TheOthersGetEveryLine()
    {
        using CliProcess chat = CliProcess.StartChatSample("0");
        Match listening = ListeningLine().Match(chat.ReadLine());
        Assert.True(listening.Success, "the chat sample did not say where it listens");
        var server = new IPEndPoint(IPAddress.Loopback, int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        using var broadcaster = new Member(server);
        using var listener1 = new Member(server);
        using var listener2 = new Member(server);
        Member[] readers = [broadcaster, listener1, listener2];
        Broadcast(broadcaster, "warm", 2048, readers); // every path warm and pooled before the baseline
        long baseline = chat.ResidentBytes();

        using Socket silent = Loopback.TcpConnect(server);
        long peak = baseline;
        var watch = Stopwatch.StartNew();
        Broadcast(broadcaster, "line", Lines, readers, () => peak = Math.Max(peak, chat.ResidentBytes()));
        TimeSpan took = watch.Elapsed;
        peak = Math.Max(peak, chat.ResidentBytes());

        output.WriteLine($"broadcast {Lines:N0} lines of {LineLength} B to 3 readers and 1 silent member in {took.TotalSeconds:F2} s");
        output.WriteLine($"chat RSS: baseline {baseline / 1048576.0:F1} MiB, peak {peak / 1048576.0:F1} MiB (+{(peak - baseline) / 1048576.0:F2}; allowed +{s_allowedGrowth / 1048576.0:F1})");
        Assert.True(peak - baseline <= s_allowedGrowth, $"the chat grew by {(peak - baseline) / 1048576.0:F1} MiB: the silent member's queue was not capped");

        // The silent member was dropped: once it finally reads, it finds the end of the stream, well short of the 24 MiB.
        long silentBytes = DrainUntilClosed(silent);
        output.WriteLine($"the silent member got {silentBytes / 1048576.0:F2} MiB before its connection closed");
        Assert.True(silentBytes < Lines * (long)LineLength / 2, $"the silent member got {silentBytes:N0} bytes");

        chat.Signal("TERM");
        chat.WaitForExit(TestTimeouts.Passing);
        Assert.Equal(0, chat.ExitCode);
    }

    // The broadcaster says count lines "tag NNNNNNNN xxx…"; every reader must see each one, in order.
    private static void Broadcast(Member broadcaster, string tag, int count, Member[] readers, Action? sample = null)
    {
        Task<int>[] reading = [.. readers.Select(r => Task.Factory.StartNew(() => r.ReadBroadcast(tag, count), TaskCreationOptions.LongRunning))];
        byte[] body = Encoding.ASCII.GetBytes(new string('x', LineLength - tag.Length - 10));
        var line = new byte[LineLength + 1];
        for (int i = 0; i < count; i++)
        {
            int n = Encoding.ASCII.GetBytes($"{tag} {i:D8} ", line);
            body.CopyTo(line, n);
            line[n + body.Length] = (byte)'\n';
            broadcaster.Socket.Send(line, 0, n + body.Length + 1, SocketFlags.None);
            if (i % 256 == 0)
            {
                sample?.Invoke();
            }
        }

        foreach (Task<int> r in reading)
        {
            Assert.True(r.Wait(ServerTestDeadline), "a reader did not get every broadcast line in time");
            Assert.Equal(count, r.Result);
        }
    }

    private static long DrainUntilClosed(Socket socket)
    {
        socket.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                total += n;
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // closed with a reset: as good as an end of stream here
        }

        return total;
    }

    private static TimeSpan ServerTestDeadline => TestTimeouts.Scale(TimeSpan.FromSeconds(60));

    [GeneratedRegex(@"^listening chat 127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();

    // A chat member that reads lines with a deadline.
    private sealed class Member : IDisposable
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public Member(IPEndPoint server)
        {
            Socket = Loopback.TcpConnect(server);
            Socket.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        }

        public Socket Socket { get; }

        // Reads until the broadcaster's line "tag NNNNNNNN" number count-1 came, checking each is the next one.
        public int ReadBroadcast(string tag, int count)
        {
            int next = 0;
            string prefix = $": {tag} ";
            while (next < count)
            {
                string line = ReadLine();
                int at = line.IndexOf(prefix, StringComparison.Ordinal);
                if (at < 0)
                {
                    continue; // "* guest4 joined" and other room notices
                }

                int number = int.Parse(line.AsSpan(at + prefix.Length, 8), System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(next, number);
                next++;
            }

            return next;
        }

        public void Dispose() => Socket.Dispose();

        private string ReadLine()
        {
            while (true)
            {
                int nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (nl >= 0)
                {
                    string line = Encoding.ASCII.GetString(_buffer, _start, nl - _start);
                    _start = nl + 1;
                    return line;
                }

                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
                int n = Socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
                Assert.True(n > 0, "the chat closed a member that reads");
                _end += n;
            }
        }
    }
}
