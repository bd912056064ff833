using System.Net.Sockets;
using System.Text;
using EventIO.Net;
using Microsoft.Extensions.Options;

namespace EventIO.Samples.KeyValue;

/// <summary>
/// One client of the key-value protocol: a line per command, a line per reply.
/// <c>SET key value</c> → <c>OK</c> (or <c>ERR full</c>), <c>GET key</c> → <c>VALUE value</c> or <c>NIL</c>,
/// <c>DEL key</c> → <c>1</c> or <c>0</c>, <c>PING</c> → <c>PONG</c>, <c>QUIT</c> → <c>BYE</c> and close;
/// anything else → <c>ERR unknown command</c>. Made through DI for each accepted connection, on its loop thread.
/// </summary>
public sealed class KeyValueConnection(SafeSocketHandle socket, KeyValueStore store, IOptions<KeyValueOptions> options)
    : LineConnection(socket, options.Value.MaxLineLength)
{
    private static readonly byte[] s_ok = "OK"u8.ToArray();
    private static readonly byte[] s_nil = "NIL"u8.ToArray();

    /// <inheritdoc/>
    protected override void OnLine(ReadOnlySpan<byte> line)
    {
        string text = Encoding.UTF8.GetString(line).TrimEnd('\r');
        string[] words = text.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        string command = words.Length > 0 ? words[0].ToUpperInvariant() : string.Empty;
        switch (command)
        {
            case "SET" when words.Length == 3:
                SendLine(store.Set(words[1], words[2]) ? s_ok : "ERR full"u8);
                break;
            case "GET" when words.Length == 2:
                SendLine(store.Get(words[1]) is { } value ? Encoding.UTF8.GetBytes("VALUE " + value) : s_nil);
                break;
            case "DEL" when words.Length == 2:
                SendLine(store.Delete(words[1]) ? "1"u8 : "0"u8);
                break;
            case "PING":
                SendLine("PONG"u8);
                break;
            case "QUIT":
                SendLine("BYE"u8);
                CloseWhenFlushed();
                break;
            default:
                SendLine("ERR unknown command"u8);
                break;
        }
    }
}
