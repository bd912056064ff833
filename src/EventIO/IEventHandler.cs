using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace EventIO;

/// <summary>
/// The recipe's <c>EventHandler</c>: an object that owns one OS handle, says whether it wants to
/// receive or send, and handles each when the handle is ready.
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> the loop calls every member on its own thread only, so a handler needs no locks.</para>
/// <para><b>Readiness is level-triggered and may be spurious:</b> read or write what you can without
/// blocking (until the call would block, or until a budget runs out) and return. The handle must be
/// in non-blocking mode.</para>
/// <para><b>When the wants change:</b> the loop re-reads <see cref="WantsToReceive"/> and
/// <see cref="WantsToSend"/> after it dispatches this handler. If they change at any other time (from a
/// timer, a posted action or another handler), call <see cref="EventLoop.Update"/>.</para>
/// <para><b>Lifetime:</b> <see cref="Handle"/> must return the same open handle while the handler is
/// registered. Call <see cref="EventLoop.Remove"/> before closing the handle. A handler whose member
/// throws is logged, removed and closed (disposed if it is <see cref="IDisposable"/>, otherwise its
/// handle is disposed); the loop carries on.</para>
/// </remarks>
[SuppressMessage("Naming", "CA1711", Justification = "The recipe's name; System.EventHandler is a delegate, the I prefix keeps them apart.")]
public interface IEventHandler
{
    /// <summary>The OS handle to poll: the recipe's <c>fileno()</c>. For a socket, <c>Socket.SafeHandle</c>.</summary>
    SafeHandle Handle { get; }

    /// <summary>True if the handler wants <see cref="HandleReceive"/> when the handle is readable.</summary>
    bool WantsToReceive { get; }

    /// <summary>True if the handler wants <see cref="HandleSend"/> when the handle is writable.</summary>
    bool WantsToSend { get; }

    /// <summary>Called when the handle is readable (data, a connection to accept, end of stream or an error).</summary>
    void HandleReceive();

    /// <summary>Called when the handle is writable and <see cref="WantsToSend"/> is true.</summary>
    void HandleSend();
}
