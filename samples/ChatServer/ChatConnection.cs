using System.Net.Sockets;
using System.Text;
using EventIO.Net;

namespace EventIO.Samples.Chat;

/// <summary>One member of the chat: lines in, broadcasts out. Everything runs on the loop thread: no locks.</summary>
public sealed class ChatConnection(SafeSocketHandle socket, ChatRoom room) : LineConnection(socket, maxLineLength: 1024)
{
    /// <summary>The member's name, <c>guestN</c> until <c>/nick</c>.</summary>
    public string Name { get; private set; } = room.NextGuestName();

    /// <summary>Sends one line of text to this member.</summary>
    public void Say(string text) => SendLine(Encoding.UTF8.GetBytes(text));

    protected override void OnOpened()
    {
        Say($"* welcome, {Name}");
        room.Broadcast($"* {Name} joined");
    }

    protected override void OnLine(ReadOnlySpan<byte> line)
    {
        string text = Encoding.UTF8.GetString(line);
        if (text.StartsWith("/nick ", StringComparison.Ordinal))
        {
            string old = Name;
            Name = text[6..].Trim();
            room.Broadcast($"* {old} is now {Name}");
        }
        else if (text.StartsWith("/fib ", StringComparison.Ordinal) && int.TryParse(text[5..], out int n) && n is >= 0 and <= 40)
        {
            // CPU-heavy: computed on the pool; the callback comes back on the loop thread.
            bool queued = room.Pool.TryRun(
                () => Fib(n),
                result => Say(result.IsSuccess ? $"* fib({n}) = {result.Value}" : "* fib failed"));
            if (!queued)
            {
                Say("* busy, try again");
            }
        }
        else
        {
            room.Broadcast($"{Name}: {text}");
        }
    }

    protected override void OnLineTooLong() => Say("* line too long (at most 1024 bytes)");

    protected override void OnClosed() => room.Broadcast($"* {Name} left");

    private static long Fib(int n) => n < 2 ? 1 : Fib(n - 1) + Fib(n - 2);
}
