using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using EventIO;
using EventIO.Net;
using EventIO.Samples.Chat;
using EventIO.Work;

// A line-based chat on EventIO: `dotnet run --project samples/ChatServer -- 17000`, then `nc 127.0.0.1 17000`.
int port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 17000;

using var loop = new EventLoop();
using var pool = new WorkerPool(workerCount: 4, priority: WorkerPriority.Low);
var room = new ChatRoom(pool);
var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, port), socket => new ChatConnection(socket, room));
room.Server = server;
loop.Add(server);
loop.CallEvery(TimeSpan.FromSeconds(30), () => room.Broadcast($"* {server.ConnectionCount} online"));

// Ctrl+C or SIGTERM: stop accepting, let every member's queue flush (5 s at most), then stop.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);
Console.WriteLine($"listening chat {server.LocalEndPoint}");
loop.Run();
Console.WriteLine("stopped");

void Shutdown(PosixSignalContext context)
{
    context.Cancel = true;
    loop.Post(() => server.Shutdown(TimeSpan.FromSeconds(5), loop.Stop)); // signal thread → loop thread
}
