using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Work;
using Microsoft.Extensions.Logging;

namespace EventIO.Cli;

/// <summary><c>eventio serve</c>: the recipe's four servers on one loop until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    private static readonly Dictionary<string, ServerKinds> s_serverNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["udp-time"] = ServerKinds.UdpTime,
        ["udp-echo"] = ServerKinds.UdpEcho,
        ["tcp-echo"] = ServerKinds.TcpEcho,
        ["udp-fib"] = ServerKinds.UdpFibonacci,
    };

    internal static Command Create()
    {
        Option<IPAddress> host = CommonOptions.Host("Address every server binds.");
        Option<int> timePort = CommonOptions.Port("--time-port", 14000, "UDP time server port (0 picks a free port).");
        Option<int> echoPort = CommonOptions.Port("--echo-port", 15000, "UDP echo server port.");
        Option<int> tcpEchoPort = CommonOptions.Port("--tcp-echo-port", 16000, "TCP echo server port.");
        Option<int> fibPort = CommonOptions.Port("--fib-port", 16000, "UDP Fibonacci server port.");
        Option<int> workers = CommonOptions.Int("--workers", 16, 1, 1024, "Worker threads for the Fibonacci server.");
        Option<int> fibMax = CommonOptions.Int("--fib-max", UdpFibonacciServer.DefaultMaxN, 0, Fibonacci.MaxComputable, "Largest n the Fibonacci server computes.");
        var workerPriority = new Option<string>("--worker-priority")
        {
            Description = "How Fibonacci workers compete with the loop for the CPU: idle (SCHED_IDLE, never delays the loop), low (nice 10), normal.",
            DefaultValueFactory = _ => "idle",
        };
        workerPriority.AcceptOnlyFromAmong("idle", "low", "normal");
        var backend = new Option<string>("--backend") { Description = "Readiness backend.", DefaultValueFactory = _ => "epoll" };
        backend.AcceptOnlyFromAmong("epoll", "poll", "select");
        var only = new Option<string[]>("--only")
        {
            Description = "Start only these servers (udp-time, udp-echo, tcp-echo, udp-fib); repeat or separate with commas.",
            AllowMultipleArgumentsPerToken = true,
        };
        only.Validators.Add(r =>
        {
            foreach (string name in Split(r.Tokens.Select(t => t.Value)))
            {
                if (!s_serverNames.ContainsKey(name))
                {
                    r.AddError($"--only: unknown server '{name}' (expected udp-time, udp-echo, tcp-echo or udp-fib).");
                }
            }
        });
        Option<double> shutdownTimeout = CommonOptions.PositiveSeconds("--shutdown-timeout", 5, "Seconds a graceful shutdown may take to flush connections.");
        Option<double?> idleTimeout = CommonOptions.OptionalSeconds("--idle-timeout", 86400, "Close TCP connections that send nothing for this many seconds (off by default).");
        Option<int> maxConnections = CommonOptions.Int("--max-connections", 0, 0, 10_000_000, "Most TCP connections open at once; extra clients are closed at once (0: no limit).");
        Option<int> slowMs = CommonOptions.Int("--slow-callback-ms", 100, 1, 3_600_000, "Log any handler or callback that holds the loop longer than this (ms).");
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log messages shown (on stderr).", DefaultValueFactory = _ => LogLevel.Information };

        var command = new Command("serve", "Run the recipe's servers on one event loop: UDP time :14000, UDP echo :15000, TCP echo :16000, UDP Fibonacci :16000.")
        {
            host, timePort, echoPort, tcpEchoPort, fibPort, workers, workerPriority, fibMax, backend, only, shutdownTimeout, idleTimeout, maxConnections, slowMs, logLevel,
        };
        command.SetAction(result =>
        {
            string[] onlyNames = result.GetValue(only) ?? [];
            ServerKinds servers = onlyNames.Length == 0 ? ServerKinds.All : ServerKinds.None;
            foreach (string name in Split(onlyNames))
            {
                servers |= s_serverNames[name];
            }

            var options = new RecipeHostOptions
            {
                Host = result.GetValue(host)!,
                TimePort = result.GetValue(timePort),
                EchoPort = result.GetValue(echoPort),
                TcpEchoPort = result.GetValue(tcpEchoPort),
                FibPort = result.GetValue(fibPort),
                Workers = result.GetValue(workers),
                WorkerPriority = Enum.Parse<WorkerPriority>(result.GetValue(workerPriority)!, ignoreCase: true),
                FibMax = result.GetValue(fibMax),
                Backend = Enum.Parse<PollerBackend>(result.GetValue(backend)!, ignoreCase: true),
                Servers = servers,
                ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)),
                IdleTimeout = result.GetValue(idleTimeout) is double idle ? TimeSpan.FromSeconds(idle) : Timeout.InfiniteTimeSpan,
                MaxConnections = result.GetValue(maxConnections),
                SlowCallbackThreshold = TimeSpan.FromMilliseconds(result.GetValue(slowMs)),
            };
            return Serve(options, result.GetValue(logLevel));
        });
        return command;
    }

    private static int Serve(RecipeHostOptions options, LogLevel level)
    {
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        ILogger logger = loggerFactory.CreateLogger("eventio");

        RecipeHost host;
        try
        {
            host = new RecipeHost(options, logger);
        }
        catch (ListenException ex)
        {
            Console.Error.WriteLine($"eventio: {ex.Message}");
            return 1;
        }

        using (host)
        {
            foreach (Listener listener in host.Listeners)
            {
                Console.Out.WriteLine(listener);
            }

            Console.Out.Flush();

            // The first Ctrl+C or SIGTERM shuts down gracefully; a second one exits at once.
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                if (!host.RequestShutdown())
                {
                    Console.Error.WriteLine("eventio: second signal, exiting now");
                    Environment.Exit(1);
                }
            }

            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            host.Run();
        }

        Console.Error.WriteLine("eventio: stopped");
        return 0;
    }

    private static IEnumerable<string> Split(IEnumerable<string> values)
        => values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
