using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EventIO.Servers;

namespace EventIO.Cli;

/// <summary>The recipe's interactive clients: <c>eventio time</c>, <c>eventio echo</c>, <c>eventio fib</c>.</summary>
internal static class ClientCommands
{
    // The recipe's ports are written once, in the servers' table. RecipeServers is Linux-only for the servers its
    // factories make; reading a port number makes none, so the clients read it on any OS.
    [SuppressMessage("Interoperability", "CA1416:Validate platform compatibility", Justification = "Reads the table's port numbers; runs no server factory.")]
    private static int DefaultPort(string server) => RecipeServers.Find(server)!.DefaultPort;

    internal static Command CreateTime()
    {
        Option<IPAddress> host = CommonOptions.Host("Server address.");
        Option<int> port = CommonOptions.Port("--port", DefaultPort("udp-time"), "UDP time server port.");
        Option<double> timeout = CommonOptions.Timeout(5);
        var command = new Command("time", "Ask the UDP time server for the time (sends an empty datagram).") { host, port, timeout };
        command.SetAction(r => Run(() =>
        {
            using var client = new UdpExchange(new IPEndPoint(r.GetValue(host)!, r.GetValue(port)), r.GetValue(timeout));
            Console.Out.WriteLine(client.Request([]));
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static Command CreateEcho()
    {
        var text = new Argument<string>("text") { Description = "What to send." };
        Option<IPAddress> host = CommonOptions.Host("Server address.");
        Option<int?> port = CommonOptions.OptionalPort("--port", $"Server port (default {DefaultPort("udp-echo")} for UDP, {DefaultPort("tcp-echo")} with --tcp).");
        var tcp = new Option<bool>("--tcp") { Description = "Use the TCP echo server instead of the UDP one." };
        Option<double> timeout = CommonOptions.Timeout(5);
        var command = new Command("echo", "Send TEXT to the echo server and print what comes back.") { text, host, port, tcp, timeout };
        command.SetAction(r => Run(() =>
        {
            bool useTcp = r.GetValue(tcp);
            int p = r.GetValue(port) ?? DefaultPort(useTcp ? "tcp-echo" : "udp-echo");
            var server = new IPEndPoint(r.GetValue(host)!, p);
            byte[] payload = Encoding.UTF8.GetBytes(r.GetValue(text) ?? string.Empty);
            string reply = useTcp ? TcpEcho(server, payload, r.GetValue(timeout)) : EchoUdp(server, payload, r.GetValue(timeout));
            Console.Out.WriteLine(reply);
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static Command CreateFib()
    {
        var numbers = new Argument<string[]>("n")
        {
            Description = "Numbers or ranges such as 10 or 0..39 (default 0..39, as the recipe's client).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        Option<IPAddress> host = CommonOptions.Host("Server address.");
        Option<int> port = CommonOptions.Port("--port", DefaultPort("udp-fib"), "UDP Fibonacci server port.");
        Option<double> timeout = CommonOptions.Timeout(60);
        var command = new Command("fib", "Ask the UDP Fibonacci server for fib(n), one request at a time, one result per line.") { numbers, host, port, timeout };
        command.SetAction(r => Run(() =>
        {
            List<string> requests = Expand(r.GetValue(numbers) ?? []);
            using var client = new UdpExchange(new IPEndPoint(r.GetValue(host)!, r.GetValue(port)), r.GetValue(timeout));
            int status = ExitCodes.Ok;
            foreach (string n in requests)
            {
                string reply = client.Request(Encoding.ASCII.GetBytes(n));
                if (reply.StartsWith("error:", StringComparison.Ordinal))
                {
                    Console.Error.WriteLine($"fib {n}: {reply}");
                    status = ExitCodes.Failure;
                }
                else
                {
                    Console.Out.WriteLine(reply);
                }
            }

            return status;
        }));
        return command;
    }

    private static string EchoUdp(IPEndPoint server, byte[] payload, double timeoutSeconds)
    {
        using var client = new UdpExchange(server, timeoutSeconds);
        return client.Request(payload);
    }

    private static string TcpEcho(IPEndPoint server, byte[] payload, double timeoutSeconds)
    {
        int timeoutMs = (int)(timeoutSeconds * 1000);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs };
        try
        {
            if (!socket.ConnectAsync(server).Wait(timeoutMs))
            {
                throw new ClientException($"could not connect to tcp {server} within {timeoutSeconds:0.###} s");
            }

            socket.Send(payload);
            socket.Shutdown(SocketShutdown.Send);
            var received = new MemoryStream();
            var buffer = new byte[8192];
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
            }

            return Encoding.UTF8.GetString(received.ToArray());
        }
        catch (AggregateException ex) when (ex.InnerException is SocketException inner)
        {
            throw UdpExchange.Describe(inner, "tcp", server, timeoutSeconds);
        }
        catch (SocketException ex)
        {
            throw UdpExchange.Describe(ex, "tcp", server, timeoutSeconds);
        }
    }

    // "10" and "0..39" → the decimal requests to send; anything else is sent as is, so that the
    // server's own validation answers it (the point of a client for a server that rejects bad input).
    private static List<string> Expand(string[] args)
    {
        var requests = new List<string>();
        foreach (string arg in args.Length == 0 ? ["0..39"] : args)
        {
            int dots = arg.IndexOf("..", StringComparison.Ordinal);
            if (dots > 0
                && int.TryParse(arg.AsSpan(0, dots), NumberStyles.None, CultureInfo.InvariantCulture, out int from)
                && int.TryParse(arg.AsSpan(dots + 2), NumberStyles.None, CultureInfo.InvariantCulture, out int to))
            {
                if (to < from || to - from >= 10_000)
                {
                    throw new ClientException($"bad range '{arg}': expected FROM..TO with FROM <= TO and at most 10000 numbers.");
                }

                for (int i = from; i <= to; i++)
                {
                    requests.Add(i.ToString(CultureInfo.InvariantCulture));
                }
            }
            else
            {
                requests.Add(arg);
            }
        }

        return requests;
    }

    private static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ClientException ex)
        {
            Console.Error.WriteLine($"eventio: {ex.Message}");
            return ExitCodes.Failure;
        }
    }
}
