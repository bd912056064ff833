using System.Text;
using EventIO.Async;

namespace EventIO.Tests.Docs;

// The README's "Writing it with async/await" example, compiled and tested here so it stays true.
public static class AsyncShout
{
    // One task per connection, run on the loop thread: no locks, no allocation per message.
    public static async Task ServeAsync(AsyncTcpConnection connection)
    {
        byte[] buffer = new byte[4096];
        int n;
        while ((n = await connection.ReceiveAsync(buffer)) > 0)   // 0: the peer ended its side
        {
            Ascii.ToUpperInPlace(buffer.AsSpan(0, n), out _);
            await connection.SendAsync(buffer.AsMemory(0, n));     // waits only past the high watermark
        }
    }                                                              // returning closes it once flushed
}
