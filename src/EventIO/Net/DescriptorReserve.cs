using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Interop;

namespace EventIO.Net;

/// <summary>
/// One descriptor held in reserve for the out-of-descriptors path (libuv's <c>uv__emfile_trick</c>,
/// Twisted's reserve), shared by the listeners of one server on every loop. When accept fails with
/// EMFILE/ENFILE, the reserve is freed, everyone waiting in the listener's backlog is accepted and closed
/// at once (so they learn now instead of hanging), and the reserve is taken back.
/// </summary>
/// <remarks>
/// <para><b>Several loops:</b> descriptors are the process's, so a listener on another loop could take the
/// freed one between the reserve's close and the shedding accept, and the reserve would be lost. So every
/// accept of the sharing listeners goes through <see cref="Accept"/>, under one lock, and while one sheds,
/// the others shed their own backlogs too (they are told "out of descriptors") until the pause ends.</para>
/// <para><b>Threading:</b> any loop thread.</para>
/// </remarks>
internal sealed class DescriptorReserve
{
    private readonly object _gate = new();
    private FileDescriptorHandle? _spare = FileDescriptorHandle.TryOpenDevNull();
    private long _episodeEnd; // Stopwatch timestamp until which every sharing listener treats accept as EMFILE
    private int _users;

    /// <summary>True while the reserve descriptor is held.</summary>
    internal bool HoldsSpare
    {
        get
        {
            lock (_gate)
            {
                return _spare is not null;
            }
        }
    }

    /// <summary>True while more than one listener uses it (one server per loop on the same port).</summary>
    internal bool IsShared
    {
        get
        {
            lock (_gate)
            {
                return _users > 1;
            }
        }
    }

    /// <summary>A listener starts using the reserve.</summary>
    internal void Join()
    {
        lock (_gate)
        {
            _users++;
        }
    }

    /// <summary>A listener stops using it; the last one closes the reserve descriptor.</summary>
    internal void Leave()
    {
        lock (_gate)
        {
            if (--_users == 0)
            {
                _spare?.Dispose();
                _spare = null;
            }
        }
    }

    /// <summary>Accepts one connection, unless another listener is shedding (then "out of descriptors").</summary>
    internal SafeSocketHandle? Accept(SafeHandle listener, out SocketError error)
    {
        lock (_gate)
        {
            if (Stopwatch.GetTimestamp() < _episodeEnd)
            {
                error = SocketError.TooManyOpenSockets;
                return null;
            }

            return SocketCalls.Accept(listener, out error);
        }
    }

    /// <summary>
    /// Out of descriptors: starts (or extends) a pause of <paramref name="pauseTicks"/> for every sharing
    /// listener, then frees the reserve and accepts and closes up to <paramref name="max"/> clients waiting
    /// on <paramref name="listener"/>, then takes the reserve back.
    /// </summary>
    /// <returns>The clients turned away.</returns>
    internal int Shed(SafeHandle listener, int max, long pauseTicks)
    {
        lock (_gate)
        {
            _episodeEnd = Math.Max(_episodeEnd, MonotonicClock.Add(Stopwatch.GetTimestamp(), pauseTicks));
            _spare ??= FileDescriptorHandle.TryOpenDevNull(); // one may have been freed since
            if (_spare is null)
            {
                return 0;
            }

            _spare.Dispose();
            _spare = null;
            int shed = 0;
            while (shed < max && SocketCalls.Accept(listener, out _) is { } waiting)
            {
                SocketCalls.Close(waiting);
                shed++;
            }

            _spare = FileDescriptorHandle.TryOpenDevNull();
            return shed;
        }
    }
}
