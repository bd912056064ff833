using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;

namespace EventIO.Net;

/// <summary>
/// A listener on the io_uring backend accepts with one multishot ACCEPT request: one completion per
/// connection, no system call. A listener that shares its descriptor reserve with listeners on other loops
/// (one per loop on the same port) keeps accept4 under the reserve's lock instead, through readiness: a
/// kernel-side accept on another loop could otherwise take the descriptor a shed had just freed.
/// </summary>
public sealed partial class TcpServer : ICompletionHandler, IRingStartable
{
    private IoUringPoller? _ring;
    private int _slot = -1;
    private bool _ringAccepts; // accepts come from the ring's multishot request
    private bool _accepting;   // that request is in the kernel

    [SupportedOSPlatform("linux")]
    void IRingStartable.OnRingStarted(IoUringPoller ring)
    {
        if (!_listening || IsClosed || _reserve.IsShared || HoldsAccepts)
        {
            return;
        }

        _slot = ring.Completions.Add(this);
        _ringAccepts = true;
        Loop.Update(this); // no readiness from now on
        ArmAccept();
    }

    [SupportedOSPlatform("linux")]
    void ICompletionHandler.OnCompletion(byte operation, int result, uint flags)
    {
        bool more = (flags & Libc.IORING_CQE_F_MORE) != 0;
        if (!more)
        {
            _accepting = false;
        }

        if (result >= 0)
        {
            var client = new SafeSocketHandle(result, ownsHandle: true);
            if (_listening && !_acceptPaused)
            {
                Accepted(client);
            }
            else
            {
                SocketCalls.Close(client); // came in while the request was being cancelled
            }
        }
        else if (result is -Libc.EMFILE or -Libc.ENFILE or -Libc.ENOBUFS or -Libc.ENOMEM)
        {
            if (_listening && !_acceptPaused)
            {
                PauseAccepting(Libc.ToSocketError(-result));
            }
        }
        else if (result is not (-Libc.ECANCELED or -Libc.EAGAIN or -Libc.EINTR))
        {
            SocketError error = Libc.ToSocketError(-result); // ECONNABORTED: that client is gone
            NetLog.AcceptFailed(Loop.Logger, _name, error);
        }

        if (!more)
        {
            ArmAccept();
            ReleaseRingIfDone();
        }
    }

    private protected override void OnAttaching(EventLoop loop)
    {
        if (OperatingSystem.IsLinux() && loop.Ring is { } ring)
        {
            _ring = ring;
        }
    }

    private void StartRing()
    {
        if (OperatingSystem.IsLinux())
        {
            _ring?.WhenStarted(this);
        }
    }

    // Stops the multishot accept (closing, or pausing out of descriptors); its last completion releases it.
    private void StopRingAccepts()
    {
        if (OperatingSystem.IsLinux() && _accepting && _slot >= 0)
        {
            IoUringPrep.Cancel(ref _ring!.Ring!.GetSqe(), _ring.Completions.UserData(_slot, RingOperation.Accept), all: false, (ulong)RingOperation.Cancel << 56);
        }
    }

    private void ResumeRingAccepts()
    {
        if (OperatingSystem.IsLinux())
        {
            ArmAccept();
        }
    }

    [SupportedOSPlatform("linux")]
    private void ArmAccept()
    {
        if (_slot < 0 || _accepting || !_listening || _acceptPaused)
        {
            return;
        }

        IoUringPrep.Accept(ref _ring!.Ring!.GetSqe(), (int)_handle.DangerousGetHandle(), multishot: true, _ring.Completions.UserData(_slot, RingOperation.Accept));
        _accepting = true;
    }

    [SupportedOSPlatform("linux")]
    private void ReleaseRingIfDone()
    {
        if (_slot >= 0 && !_accepting && !_listening)
        {
            _ring!.Completions.Remove(_slot);
            _slot = -1;
        }
    }
}
