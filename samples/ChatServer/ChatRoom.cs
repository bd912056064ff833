using System.Text;
using EventIO.Net;
using EventIO.Work;

namespace EventIO.Samples.Chat;

/// <summary>The chat's shared state: its members (the server's connections) and the worker pool.</summary>
public sealed class ChatRoom(WorkerPool pool)
{
    private int _guests;

    /// <summary>Where <c>/fib</c> runs.</summary>
    public WorkerPool Pool { get; } = pool;

    /// <summary>The listening server; its connections are the members.</summary>
    public TcpServer? Server { get; set; }

    /// <summary>A fresh name for a new member.</summary>
    public string NextGuestName() => $"guest{++_guests}";

    /// <summary>
    /// Sends <paramref name="text"/> to every member: the obvious loop, no per-member checks. A member that
    /// reads slower than the room talks is closed by its send cap (4 MiB queued), so memory stays bounded;
    /// a member that closes meanwhile stays in the list until this callback returns, its send just fails.
    /// </summary>
    public void Broadcast(string text)
    {
        byte[] line = Encoding.UTF8.GetBytes(text);
        foreach (TcpConnection member in Server!.Connections)
        {
            ((ChatConnection)member).SendLine(line);
        }
    }
}
