using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Uring;

/// <summary>Creating rings and collecting completions with deadlines, for the io_uring tests.</summary>
[SupportedOSPlatform("linux")]
internal static class UringTestSupport
{
    /// <summary>Creates a ring on the calling thread or fails the test with the kernel's reason.</summary>
    public static IoUring CreateRing(uint entries = 64, uint cqEntries = 0, IoUringTaskRun taskRun = IoUringTaskRun.Deferred)
    {
        bool created = IoUring.TryCreate(entries, cqEntries == 0 ? entries * 4 : cqEntries, taskRun, out IoUring? ring, out string reason);
        Assert.True(created, reason);
        return ring!;
    }

    /// <summary>Consumes every completion the CQ holds now (no system call) into <paramref name="into"/>.</summary>
    public static void Drain(IoUring ring, List<IoUringCompletion> into)
    {
        while (ring.TryPeek(out IoUringCompletion completion))
        {
            into.Add(completion);
            ring.Advance(1);
        }
    }

    /// <summary>
    /// Submits what is queued and collects completions until at least <paramref name="count"/> arrived, or
    /// fails the test after <paramref name="timeout"/> (default <see cref="TestTimeouts.Passing"/>).
    /// </summary>
    public static List<IoUringCompletion> Collect(IoUring ring, int count, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        TimeSpan limit = timeout ?? TestTimeouts.Passing;
        var completions = new List<IoUringCompletion>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Drain(ring, completions);
            if (completions.Count >= count)
            {
                return completions;
            }

            TimeSpan left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"{completions.Count} of {count} completions within {limit} at {Path.GetFileName(file)}:{line}: [{string.Join(", ", completions)}]");
            }

            ring.SubmitAndWait(count - completions.Count, Math.Max(1, (int)Math.Ceiling(left.TotalMilliseconds)));
        }
    }

    /// <summary>Submits what is queued and collects whatever completes within <paramref name="window"/> (for "nothing else happens").</summary>
    public static List<IoUringCompletion> CollectFor(IoUring ring, TimeSpan window)
    {
        var completions = new List<IoUringCompletion>();
        var clock = Stopwatch.StartNew();
        ring.SubmitAndWait(0, 0);
        while (clock.Elapsed < window)
        {
            Drain(ring, completions);
            ring.SubmitAndWait(1, Math.Max(1, (int)(window - clock.Elapsed).TotalMilliseconds));
        }

        Drain(ring, completions);
        return completions;
    }

    /// <summary>The single completion tagged <paramref name="userData"/> among <paramref name="completions"/>.</summary>
    public static IoUringCompletion Single(List<IoUringCompletion> completions, ulong userData)
        => Assert.Single(completions, c => c.UserData == userData);

    /// <summary>A new eventfd (non-blocking, close-on-exec unless asked otherwise), owned by the returned handle.</summary>
    public static FileDescriptorHandle EventFd(bool nonBlocking = true)
    {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0));
        Assert.True(fd >= 0, $"eventfd failed: errno {Libc.LastErrno}");
        return new FileDescriptorHandle(fd);
    }

    /// <summary>Adds <paramref name="value"/> to an eventfd's counter.</summary>
    public static unsafe void Signal(FileDescriptorHandle eventFd, ulong value = 1)
        => Assert.Equal(8, (int)Libc.write(eventFd.Descriptor, &value, sizeof(ulong)));

    /// <summary>Reads (and resets) an eventfd's counter; 0 when it was already 0.</summary>
    public static unsafe ulong ReadCounter(FileDescriptorHandle eventFd)
    {
        ulong value = 0;
        return Libc.read(eventFd.Descriptor, &value, sizeof(ulong)) == 8 ? value : 0;
    }

    /// <summary>Decodes a <c>sockaddr_in</c> (family, big-endian port, address).</summary>
    public static IPEndPoint ParseSockaddrIn(ReadOnlySpan<byte> name)
    {
        Assert.True(name.Length >= 16, $"sockaddr of {name.Length} bytes");
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(name)); // AF_INET
        int port = BinaryPrimitives.ReadUInt16BigEndian(name[2..]);
        return new IPEndPoint(new IPAddress(name.Slice(4, 4)), port);
    }

    /// <summary>The open-file flags of <paramref name="fd"/> in this process, from /proc/self/fdinfo (octal).</summary>
    public static int OpenFlags(int fd)
    {
        string line = File.ReadAllLines($"/proc/self/fdinfo/{fd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
        return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
    }

    /// <summary>The socket's descriptor number.</summary>
    public static int Fd(System.Net.Sockets.Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();
}
