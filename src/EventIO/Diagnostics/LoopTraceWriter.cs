using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EventIO.Waking;

namespace EventIO.Diagnostics;

/// <summary>
/// A <see cref="LoopTracer"/> that writes each turn as one block of text (or one JSON line) to a
/// <see cref="TextWriter"/>, bounded to the first <see cref="MaxTurns"/> turns, so that tracing a busy server can
/// neither flood the disk nor keep the loop writing for long.
/// </summary>
/// <remarks>
/// <para>A block is built on the loop thread while the turn runs and written whole when it ends, under a lock
/// (several loops may share one writer; their blocks never interleave). The output is flushed after each block.</para>
/// <para>Text: <c>turn 7 (loop 0): 2 callbacks, busy 48 µs</c>, then one line per event: <c>interest</c> (what the
/// kernel was told), <c>wait</c> (the timeout and why, how long it really waited), <c>ready</c> (a dispatch, with
/// what was ready and how long the handler took), <c>wake-up</c> (the loop's eventfd: posted work is waiting),
/// <c>completion</c> (io_uring), <c>timer</c>, <c>queued</c> (work handed to the worker pool), <c>posted</c>
/// (a posted action; <c>worker-pool completion</c> when it brings a result back).</para>
/// </remarks>
public sealed class LoopTraceWriter : LoopTracer
{
    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly TextWriter _output;
    private readonly ConditionalWeakTable<EventLoop, Block> _blocks = new(); // a disposed loop's block goes with it
    private readonly ConditionalWeakTable<EventLoop, Block>.CreateValueCallback _newBlock;
    private long _begun;
    private long _written;

    /// <summary>Writes to <paramref name="output"/> in <paramref name="format"/>, at most <paramref name="maxTurns"/> turns (0: no limit).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTurns"/> is negative.</exception>
    public LoopTraceWriter(TextWriter output, LoopTraceFormat format = LoopTraceFormat.Text, long maxTurns = 0)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTurns);
        _output = output;
        Format = format;
        _newBlock = _ => new Block(format);
        MaxTurns = maxTurns;
    }

    /// <summary>The format of each turn.</summary>
    public LoopTraceFormat Format { get; }

    /// <summary>Turns traced at most, over every loop (0: no limit); later turns are not traced.</summary>
    public long MaxTurns { get; }

    /// <summary>Turns written so far. Any thread.</summary>
    public long TurnsWritten => Interlocked.Read(ref _written);

    /// <inheritdoc/>
    public override bool BeginTurn(EventLoop eventLoop, long turn)
    {
        ArgumentNullException.ThrowIfNull(eventLoop);
        if (MaxTurns > 0 && (Volatile.Read(ref _begun) >= MaxTurns || Interlocked.Increment(ref _begun) > MaxTurns))
        {
            return false;
        }

        Of(eventLoop).Begin(turn);
        return true;
    }

    /// <inheritdoc/>
    public override void InterestChanged(EventLoop eventLoop, IEventHandler handler, int descriptor, Interest previous, Interest current)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Block b = Of(eventLoop);
        string op = TraceText.Operation(previous, current);
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", "interest");
            j.WriteString("op", op);
            j.WriteNumber("fd", descriptor);
            j.WriteString("handler", Name(handler));
            j.WriteString("from", TraceText.Of(previous));
            j.WriteString("to", TraceText.Of(current));
            j.WriteEndObject();
        }
        else
        {
            b.Nested("interest").Append(CultureInfo.InvariantCulture, $"{op,-7}fd {descriptor,-4} {Name(handler)}  {TraceText.Of(previous)} → {TraceText.Of(current)}").AppendLine();
        }
    }

    /// <inheritdoc/>
    public override void Waiting(EventLoop eventLoop, int timeoutMs, LoopWaitReason reason)
    {
        Block b = Of(eventLoop);
        b.TimeoutMs = timeoutMs;
        b.Reason = reason;
    }

    /// <inheritdoc/>
    public override void Woke(EventLoop eventLoop, int events, TimeSpan waited)
    {
        Block b = Of(eventLoop);
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", "wait");
            j.WriteNumber("timeout_ms", b.TimeoutMs);
            j.WriteString("reason", TraceText.Of(b.Reason));
            j.WriteNumber("events", events);
            j.WriteNumber("waited_us", Math.Round(waited.TotalMicroseconds, 1));
            j.WriteEndObject();
        }
        else
        {
            string timeout = b.Reason switch
            {
                LoopWaitReason.Idle => "no timeout (nothing due)",
                LoopWaitReason.Timer => $"up to {b.TimeoutMs} ms (next timer)",
                LoopWaitReason.Posted => "0 ms (actions posted)",
                LoopWaitReason.Stop => "0 ms (stop requested)",
                _ => $"up to {b.TimeoutMs} ms (caller's limit)",
            };
            b.Line("wait").Append(CultureInfo.InvariantCulture, $"{timeout} → {events} event{(events == 1 ? "" : "s")} after {Duration(waited)}").AppendLine();
            b.InCallbacks = true;
        }
    }

    /// <inheritdoc/>
    public override void Dispatched(EventLoop eventLoop, IEventHandler handler, int descriptor, Interest ready, bool failed, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Block b = Of(eventLoop);
        bool waker = handler is EventFdWaker;
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", waker ? "wake" : "ready");
            j.WriteNumber("fd", descriptor);
            j.WriteString("handler", Name(handler));
            j.WriteString("ready", TraceText.Of(ready));
            j.WriteBoolean("failed", failed);
            j.WriteNumber("us", Math.Round(elapsed.TotalMicroseconds, 1));
            j.WriteEndObject();
        }
        else if (waker)
        {
            b.Line("wake-up").Append(CultureInfo.InvariantCulture, $"fd {descriptor,-4} eventfd read (the loop's waker: posted actions wait)  {Duration(elapsed)}").AppendLine();
            b.EndCallback();
        }
        else
        {
            string what = TraceText.Of(ready) + (failed ? " error/hang-up" : "");
            b.Line("ready").Append(CultureInfo.InvariantCulture, $"fd {descriptor,-4} {Name(handler)}  {what}  {Duration(elapsed)}").AppendLine();
            b.EndCallback();
        }
    }

    /// <inheritdoc/>
    public override void Completed(EventLoop eventLoop, object owner, string operation, int result, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(owner);
        Block b = Of(eventLoop);
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", "completion");
            j.WriteString("op", operation);
            j.WriteNumber("result", result);
            j.WriteString("handler", Name(owner));
            j.WriteNumber("us", Math.Round(elapsed.TotalMicroseconds, 1));
            j.WriteEndObject();
        }
        else
        {
            string outcome = result < 0 ? $"error {-result} (errno)"
                : operation == "accept" ? $"→ fd {result}"
                : result == 0 && operation == "recv" ? "0 B (end of stream)"
                : $"{result} B";
            b.Line("completion").Append(CultureInfo.InvariantCulture, $"{operation} {outcome}  {Name(owner)}  {Duration(elapsed)}").AppendLine();
            b.EndCallback();
        }
    }

    /// <inheritdoc/>
    public override void TimerRan(EventLoop eventLoop, Delegate callback, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Block b = Of(eventLoop);
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", "timer");
            j.WriteString("callback", TraceText.Name(callback));
            j.WriteNumber("us", Math.Round(elapsed.TotalMicroseconds, 1));
            j.WriteEndObject();
        }
        else
        {
            b.Line("timer").Append(CultureInfo.InvariantCulture, $"{TraceText.Name(callback)}  {Duration(elapsed)}").AppendLine();
            b.EndCallback();
        }
    }

    /// <inheritdoc/>
    public override void PostedRan(EventLoop eventLoop, Delegate callback, bool workerCompletion, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Block b = Of(eventLoop);
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", "posted");
            j.WriteString("callback", TraceText.Name(callback));
            j.WriteBoolean("worker_completion", workerCompletion);
            j.WriteNumber("us", Math.Round(elapsed.TotalMicroseconds, 1));
            j.WriteEndObject();
        }
        else
        {
            string kind = workerCompletion ? "worker-pool completion " : string.Empty;
            b.Line("posted").Append(CultureInfo.InvariantCulture, $"{kind}{TraceText.Name(callback)}  {Duration(elapsed)}").AppendLine();
            b.EndCallback();
        }
    }

    /// <inheritdoc/>
    public override void WorkQueued(EventLoop eventLoop, Delegate work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Block b = Of(eventLoop);
        if (b.Json is { } j)
        {
            j.WriteStartObject();
            j.WriteString("e", "queued");
            j.WriteString("work", TraceText.Name(work));
            j.WriteEndObject();
        }
        else
        {
            b.Nested("queued").Append(CultureInfo.InvariantCulture, $"{TraceText.Name(work)} → worker pool").AppendLine();
        }
    }

    /// <inheritdoc/>
    public override void EndTurn(EventLoop eventLoop, long turn, int work, TimeSpan busy)
    {
        string text = Of(eventLoop).End(eventLoop, turn, work, busy);
        long written = Interlocked.Increment(ref _written);
        lock (_output)
        {
            _output.Write(text);
            if (MaxTurns > 0 && written == MaxTurns)
            {
                _output.WriteLine(Format == LoopTraceFormat.Json
                    ? $"{{\"e\":\"limit\",\"turns\":{MaxTurns}}}"
                    : $"(trace: {MaxTurns} turn{(MaxTurns == 1 ? "" : "s")} written, the limit; tracing stops here)");
            }

            _output.Flush();
        }
    }

    private static string Name(object handler) => TraceText.Name(handler);

    private static string Duration(TimeSpan t) => t.TotalMicroseconds switch
    {
        < 1000 => $"{t.TotalMicroseconds:0} µs",
        < 1_000_000 => $"{t.TotalMilliseconds:0.##} ms",
        _ => $"{t.TotalSeconds:0.##} s",
    };

    private Block Of(EventLoop eventLoop) => _blocks.GetValue(eventLoop, _newBlock);

    // One loop's turn being built, on that loop's thread.
    private sealed class Block
    {
        private readonly StringBuilder _text = new();
        private readonly StringBuilder _inner = new(); // what a callback did, written under its line when it ends
        private readonly ArrayBufferWriter<byte>? _buffer;

        internal Block(LoopTraceFormat format)
        {
            if (format == LoopTraceFormat.Json)
            {
                _buffer = new ArrayBufferWriter<byte>();
                Json = new Utf8JsonWriter(_buffer, s_json);
            }
        }

        internal Utf8JsonWriter? Json { get; }

        internal int TimeoutMs { get; set; }

        internal LoopWaitReason Reason { get; set; }

        // After the wait: interest changes and queued work happen inside a callback, whose line comes when it ends.
        internal bool InCallbacks { get; set; }

        internal void Begin(long turn)
        {
            _ = turn;
            _text.Clear();
            _inner.Clear();
            InCallbacks = false;
            if (Json is { } j)
            {
                _buffer!.Clear();
                j.Reset();
                j.WriteStartArray();
            }
        }

        internal StringBuilder Line(string kind) => _text.Append("  ").Append(kind.PadRight(11));

        internal StringBuilder Nested(string kind) => InCallbacks ? _inner.Append("    ↳ ").Append(kind.PadRight(9)) : Line(kind);

        internal void EndCallback()
        {
            _text.Append(_inner);
            _inner.Clear();
        }

        internal string End(EventLoop eventLoop, long turn, int work, TimeSpan busy)
        {
            if (Json is { } j)
            {
                j.WriteEndArray();
                j.Flush();
                string events = Encoding.UTF8.GetString(_buffer!.WrittenSpan);
                return string.Create(CultureInfo.InvariantCulture, $"{{\"loop\":{eventLoop.Id},\"turn\":{turn},\"work\":{work},\"busy_us\":{Math.Round(busy.TotalMicroseconds, 1)},\"events\":{events}}}\n");
            }

            EndCallback();
            string header = string.Create(CultureInfo.InvariantCulture, $"turn {turn} (loop {eventLoop.Id}): {work} callback{(work == 1 ? "" : "s")}, busy {Duration(busy)}\n");
            return header + _text.ToString();
        }
    }
}
