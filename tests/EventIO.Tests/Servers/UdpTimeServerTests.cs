using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>End-to-end tests of <see cref="UdpTimeServer"/> on real loopback sockets.</summary>
public sealed partial class UdpTimeServerTests
{
    [Fact]
    public void EmptyDatagram_GetsTheCurrentLocalTimeInCTimeForm()
    {
        using var loopThread = new LoopThread();
        UdpTimeServer server = ServerTestSupport.Start(loopThread, loop => new UdpTimeServer(Loopback.AnyPort));
        using Socket client = Loopback.UdpClient();

        DateTime before = DateTime.Now;
        byte[] reply = ServerTestSupport.Exchange(client, server.LocalEndPoint, []);
        DateTime after = DateTime.Now;

        Assert.Equal(CTimeFormat.Length, reply.Length);
        Assert.All(reply, b => Assert.InRange(b, (byte)0x20, (byte)0x7E));
        string text = Encoding.ASCII.GetString(reply);
        Assert.Matches(CTimePattern(), text);

        // Compare whole date-times, not times of day, so that a test run across midnight (or a month or
        // year end) still holds. ctime truncates to the second.
        DateTime parsed = ParseCTime(text);
        DateTime earliest = before.AddTicks(-(before.Ticks % TimeSpan.TicksPerSecond)).AddSeconds(-2);
        DateTime latest = after.AddSeconds(2);
        Assert.InRange(parsed, earliest, latest);
    }

    [Theory]
    [InlineData(2012, 9, 18, 14, 29, 23, "Tue Sep 18 14:29:23 2012")] // the recipe's own example
    [InlineData(2012, 9, 8, 4, 5, 6, "Sat Sep  8 04:05:06 2012")]     // single-digit day: space-padded
    [InlineData(1999, 12, 31, 23, 59, 59, "Fri Dec 31 23:59:59 1999")]
    [InlineData(2024, 2, 29, 0, 0, 0, "Thu Feb 29 00:00:00 2024")]
    public void InjectedClock_IsFormattedExactlyAsCTime(int year, int month, int day, int hour, int minute, int second, string expected)
    {
        using var loopThread = new LoopThread();
        var time = new DateTime(year, month, day, hour, minute, second, 999, DateTimeKind.Local);
        UdpTimeServer server = ServerTestSupport.Start(loopThread, loop => new UdpTimeServer(Loopback.AnyPort) { Clock = () => time });
        using Socket client = Loopback.UdpClient();

        byte[] reply = ServerTestSupport.Exchange(client, server.LocalEndPoint, []);

        Assert.Equal(expected, Encoding.ASCII.GetString(reply));
        Assert.Equal(CTimeFormat.Length, reply.Length);
    }

    [Fact]
    public void DatagramWithContent_StillGetsOnlyTheTime()
    {
        using var loopThread = new LoopThread();
        UdpTimeServer server = ServerTestSupport.Start(loopThread, loop => new UdpTimeServer(Loopback.AnyPort)
        {
            Clock = static () => new DateTime(2012, 9, 18, 14, 29, 23, DateTimeKind.Local),
        });
        using Socket client = Loopback.UdpClient();

        byte[] reply = ServerTestSupport.Exchange(client, server.LocalEndPoint, ServerTestSupport.RandomBytes(1500, 7));

        Assert.Equal("Tue Sep 18 14:29:23 2012", Encoding.ASCII.GetString(reply));
    }

    [Fact]
    public void BurstOfDatagrams_AllGetReplies()
    {
        const int Burst = 200;
        using var loopThread = new LoopThread();
        UdpTimeServer server = ServerTestSupport.Start(loopThread, loop => new UdpTimeServer(Loopback.AnyPort, new UdpServerOptions { ReceiveBufferSize = 1 << 20 }));
        using Socket client = Loopback.UdpClient();
        client.ReceiveBufferSize = 1 << 20;

        // Everything is sent before anything is read: the server must drain the whole burst.
        for (int i = 0; i < Burst; i++)
        {
            byte[] payload = i % 2 == 0 ? [] : [(byte)i];
            client.SendTo(payload, SocketFlags.None, server.LocalEndPoint);
        }

        for (int i = 0; i < Burst; i++)
        {
            byte[] reply = ServerTestSupport.ReceiveDatagram(client, out IPEndPoint from);
            Assert.Equal(server.LocalEndPoint, from);
            Assert.Matches(CTimePattern(), Encoding.ASCII.GetString(reply));
        }

        (long received, long sent, long dropped) = loopThread.Invoke(() => (server.DatagramsReceived, server.RepliesSent, server.RepliesDropped));
        Assert.Equal(Burst, received);
        Assert.Equal(Burst, sent);
        Assert.Equal(0, dropped);
        Assert.Equal(0, client.Available); // exactly one reply per datagram
    }

    [GeneratedRegex(@"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex CTimePattern();

    private static DateTime ParseCTime(string text)
    {
        // "Sat Sep  8 ..." pads the day with a space; "d" wants no padding.
        string normalized = text.Replace("  ", " ", StringComparison.Ordinal);
        DateTime parsed = DateTime.ParseExact(normalized, "ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal);
        Assert.Equal(text[..3], CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedDayName(parsed.DayOfWeek));
        return parsed;
    }
}
