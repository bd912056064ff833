using System.Buffers;
using System.IO.Pipelines;

namespace EventIO.Async;

/// <summary>
/// The <see cref="IDuplexPipe"/> of an <see cref="AsyncTcpConnection"/> (<see cref="AsyncTcpConnection.AsPipe"/>),
/// for protocol code written the Kestrel way. Received bytes are written into the input pipe by the loop as they
/// arrive; an output pump sends what the application flushes. The loop is the scheduler of the application's
/// side: its read and flush continuations run in the loop's posted phase.
/// </summary>
/// <remarks>
/// <para><b>Back-pressure:</b> when the application leaves <see cref="AsyncTcpConnection.ReceiveBufferLimit"/>
/// bytes unconsumed, the connection stops reading its peer until the application consumes half of them. The
/// pump stops taking from the output pipe while the connection is unwritable (past its high watermark); the
/// output pipe then holds at most <see cref="OutputPauseThreshold"/> bytes before the application's flush waits.</para>
/// <para><b>Ending:</b> the peer's end of stream completes the input (a read returns <c>IsCompleted</c>); an error
/// or a close completes it with the connection's exception. Completing the output closes the connection once
/// everything is flushed.</para>
/// <para><b>Threading:</b> loop thread only; the pipes' ends refuse other threads.</para>
/// </remarks>
internal sealed class ConnectionPipe : IDuplexPipe
{
    /// <summary>Bytes the output pipe holds, while the connection is unwritable, before the application's flush waits (64 KiB).</summary>
    internal const int OutputPauseThreshold = 64 * 1024;

    private readonly AsyncTcpConnection _connection;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Action _onInputFlushed;
    private ValueTask<FlushResult> _inputFlush;
    private bool _inputFlushPending; // _inputFlush waits for the application to consume
    private bool _inputDone; // the input was completed, or its reader is gone: received bytes are dropped

    internal ConnectionPipe(AsyncTcpConnection connection, int receiveLimit)
    {
        _connection = connection;
        PipeScheduler loop = connection.Loop.PipeScheduler;
        LoopMemoryPool memory = connection.Loop.PipeMemory; // reused blocks: no allocation per segment

        // Our ends (the input's writer, the output's reader) run inline: they are our code, on the loop thread.
        _input = new Pipe(new PipeOptions(
            pool: memory,
            readerScheduler: loop,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: receiveLimit,
            resumeWriterThreshold: receiveLimit / 2,
            useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pool: memory,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: loop,
            pauseWriterThreshold: OutputPauseThreshold,
            resumeWriterThreshold: OutputPauseThreshold / 2,
            useSynchronizationContext: false));
        Input = new LoopPipeReader(connection.Loop, _input.Reader);
        Output = new LoopPipeWriter(connection.Loop, _output.Writer);
        _onInputFlushed = OnInputFlushed;
    }

    /// <inheritdoc/>
    public PipeReader Input { get; }

    /// <inheritdoc/>
    public PipeWriter Output { get; }

    /// <summary>Starts the output pump. Loop thread.</summary>
    internal void Start() => _ = PumpOutputAsync();

    /// <summary>Bytes from the peer (inside the connection's receive): into the input pipe; a full pipe pauses reading.</summary>
    internal void OnReceived(ReadOnlySpan<byte> data)
    {
        if (_inputDone)
        {
            return;
        }

        _input.Writer.Write(data);
        if (_inputFlushPending)
        {
            return; // io_uring: read on before the pause reached the kernel; flushed once the pending flush completes
        }

        FlushInput();
    }

    /// <summary>The peer ended its side: the application's next read returns <c>IsCompleted</c> after what is buffered.</summary>
    internal void OnEndOfStream()
    {
        _inputDone = true;
        _input.Writer.Complete();
    }

    /// <summary>The connection closed (<paramref name="error"/> null: gracefully): both pipes end.</summary>
    internal void OnClosed(Exception? error)
    {
        if (!_inputDone)
        {
            _inputDone = true;
            _input.Writer.Complete(error);
        }

        _output.Reader.CancelPendingRead(); // the pump ends and completes the output: the application's flushes report IsCompleted
    }

    /// <summary>The connection's task ended: what it wrote is flushed, then the connection closes.</summary>
    internal void OnTaskCompleted()
    {
        _input.Reader.Complete();
        _output.Writer.Complete();
    }

    // Makes the written bytes readable; a full pipe pauses reading the peer until the application consumes.
    private void FlushInput()
    {
        ValueTask<FlushResult> flush = _input.Writer.FlushAsync();
        if (flush.IsCompleted)
        {
            if (flush.Result.IsCompleted)
            {
                _inputDone = true; // the application completed its reader
            }

            return;
        }

        _connection.SetReceivingPaused(true);
        _inputFlushPending = true;
        _inputFlush = flush;
        flush.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onInputFlushed); // inline scheduler: resumes inside the application's AdvanceTo
    }

    private void OnInputFlushed()
    {
        FlushResult result = _inputFlush.GetAwaiter().GetResult();
        _inputFlush = default;
        _inputFlushPending = false;
        _inputDone |= result.IsCompleted;
        if (!_inputDone && _input.Writer.UnflushedBytes > 0)
        {
            FlushInput(); // what arrived while the flush waited
            if (_inputFlushPending)
            {
                return; // still full: stay paused
            }
        }

        _connection.SetReceivingPaused(false); // with the reader gone, keep reading (and dropping) to see the peer's end
    }

    // Sends what the application flushes; runs inline in its FlushAsync (the output reader's scheduler is inline).
    private async Task PumpOutputAsync()
    {
        PipeReader reader = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool sent = true;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    if (!_connection.Send(segment.Span))
                    {
                        sent = false; // closed or closing: the rest can never go out
                        break;
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (!sent || result.IsCanceled || _connection.IsClosed)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    _connection.CloseWhenFlushed();
                    break;
                }

                if (!_connection.IsWritable)
                {
                    await _connection.WaitUntilWritableAsync(); // throws if the connection closes meanwhile
                }
            }
        }
        catch (Exception)
        {
            // The connection closed while the pump waited (the input carries its error), or a send failed in a
            // way that leaves its stream unknown: close it.
            _connection.Close();
        }

        reader.Complete(); // the application's next flush reports IsCompleted
    }
}
