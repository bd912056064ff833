using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using EventIO.Net;

namespace EventIO.Benchmarks;

/// <summary>
/// Queueing a payload for a connection and draining it through a socket that takes at most 16 KiB
/// per send: <see cref="OutgoingBuffer"/> (pooled 16 KiB segments, <c>FirstSpan</c>/<c>Consume</c>)
/// against the recipe's bytearray (<c>outgoing += data</c>; <c>outgoing = outgoing[nsent:]</c>, a new
/// array and a copy of the rest on every send) as the baseline, and a <see cref="List{T}"/> of bytes
/// (amortised growth, <c>RemoveRange(0, n)</c> shifting the rest down) as the usual C# shortcut.
/// </summary>
/// <remarks>
/// The simulated send copies what it accepts into a 16 KiB sink, as the kernel copies into the socket
/// buffer, so every variant pays the same per-byte send cost. The buffers live across operations, so
/// the figures are steady state: the pool's segments and the ring are reused.
/// </remarks>
[MemoryDiagnoser]
public class OutgoingBufferBenchmarks
{
    /// <summary>What one simulated send accepts: a socket buffer's worth.</summary>
    private const int SendLimit = 16 * 1024;

    private readonly byte[] _sink = new byte[SendLimit];
    private readonly OutgoingBuffer _buffer = new();
    private readonly List<byte> _list = [];
    private byte[] _payload = [];
    private byte[] _naive = [];

    /// <summary>Bytes queued and drained per operation.</summary>
    [Params(64, 4 * 1024, 256 * 1024)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[PayloadSize];
        new Random(42).NextBytes(_payload);
        if (NaiveByteArray() != PayloadSize || ListOfBytes() != PayloadSize || OutgoingBufferSegments() != PayloadSize)
        {
            throw new InvalidOperationException("A variant did not send the whole payload.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer.Dispose();

    /// <summary>The recipe: <c>outgoing += data</c>, then <c>outgoing = outgoing[nsent:]</c> after every send.</summary>
    [Benchmark(Baseline = true)]
    public long NaiveByteArray()
    {
        byte[] grown = new byte[_naive.Length + _payload.Length];
        _naive.CopyTo(grown, 0);
        _payload.CopyTo(grown, _naive.Length);
        _naive = grown;

        long sent = 0;
        while (_naive.Length > 0)
        {
            int n = Send(_naive);
            sent += n;
            _naive = _naive.AsSpan(n).ToArray();
        }

        return sent;
    }

    /// <summary>A growable list: append, send from the front, <c>RemoveRange(0, n)</c>.</summary>
    [Benchmark]
    public long ListOfBytes()
    {
        _list.AddRange(_payload.AsSpan());
        long sent = 0;
        while (_list.Count > 0)
        {
            int n = Send(CollectionsMarshal.AsSpan(_list));
            sent += n;
            _list.RemoveRange(0, n);
        }

        return sent;
    }

    /// <summary>EventIO's <see cref="OutgoingBuffer"/>: Append, then send <c>FirstSpan</c> and <c>Consume</c> until empty.</summary>
    [Benchmark]
    public long OutgoingBufferSegments()
    {
        _buffer.Append(_payload);
        long sent = 0;
        while (!_buffer.IsEmpty)
        {
            int n = Send(_buffer.FirstSpan);
            sent += n;
            _buffer.Consume(n);
        }

        return sent;
    }

    // A socket whose buffer takes at most SendLimit bytes per call.
    private int Send(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, SendLimit);
        data[..n].CopyTo(_sink);
        return n;
    }
}
