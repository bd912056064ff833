using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Diagnostics;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Work;
using Microsoft.Extensions.Logging;

namespace EventIO.Cli;

/// <summary><c>eventio serve</c>: the recipe's servers on every loop until Ctrl+C or SIGTERM.</summary>
[SupportedOSPlatform("linux")]
internal static class ServeCommand
{
    private const int DefaultTraceTurns = 1000;

    private static readonly string s_serverList = string.Join(", ", RecipeServers.All.Select(d => d.Name));

    internal static Command Create()
    {
        Option<IPAddress> host = CommonOptions.Host("Address every server binds.");
        var ports = RecipeServers.All.ToDictionary(
            d => d.Name,
            d => CommonOptions.Port("--" + d.PortOption, d.DefaultPort, $"{d.Description} port ({d.Protocol.ToString().ToUpperInvariant()}; 0 picks a free port)."));
        Option<int> loops = CommonOptions.Int("--loops", EventLoopGroup.DefaultLoopCount, 1, EventLoopGroup.MaxLoops, "Event loops, one thread each; every server runs on every loop (default: the CPUs this process may use).");
        var accept = new Option<string>("--accept")
        {
            Description = "How TCP connections reach the loops: reuseport (a listener per loop, the kernel spreads them) or single (one acceptor hands them out in turn).",
            DefaultValueFactory = _ => "reuseport",
        };
        accept.AcceptOnlyFromAmong("reuseport", "single");
        Option<int> udpBatch = CommonOptions.Int("--udp-batch", 32, 1, 64, "Datagrams per recvmmsg and replies per sendmmsg (1: recvfrom/sendto, one at a time).");
        Option<int> workers = CommonOptions.Int("--workers", 16, 1, 1024, "Worker threads for the Fibonacci server.");
        Option<int> fibMax = CommonOptions.Int("--fib-max", UdpFibonacciServer.DefaultMaxN, 0, Fibonacci.MaxComputable, "Largest n the Fibonacci server computes.");
        var workerPriority = new Option<string>("--worker-priority")
        {
            Description = "How Fibonacci workers compete with the loop for the CPU: adaptive (SCHED_IDLE, promoted while other programs starve the work, sent back when the loop waits; without CAP_SYS_NICE or RLIMIT_NICE work starts normal and drops to idle when the loop waits), idle (SCHED_IDLE, never delays the loop), low (nice 10), normal.",
            DefaultValueFactory = _ => "adaptive",
        };
        workerPriority.AcceptOnlyFromAmong("adaptive", "idle", "low", "normal");
        var api = new Option<string>("--api")
        {
            Description = "How the TCP echo and Fibonacci servers are written: handlers (callbacks) or async (async/await on the loop).",
            DefaultValueFactory = _ => "handlers",
        };
        api.AcceptOnlyFromAmong("handlers", "async");
        var backend = new Option<string>("--backend")
        {
            Description = "Event backend: epoll, poll, select (the recipe's), io_uring, or auto (io_uring where the kernel allows it, else epoll). Default: EVENTIO_BACKEND, else epoll.",
            DefaultValueFactory = _ => "default",
        };
        backend.AcceptOnlyFromAmong([.. Enum.GetNames<PollerBackend>().Select(BackendName)]);
        var only = new Option<string[]>("--only")
        {
            Description = $"Start only these servers ({s_serverList}); repeat or separate with commas.",
            AllowMultipleArgumentsPerToken = true,
        };
        only.Validators.Add(r =>
        {
            foreach (string name in Split(r.Tokens.Select(t => t.Value)))
            {
                if (RecipeServers.Find(name) is null)
                {
                    r.AddError($"--only: unknown server '{name}' (expected one of {s_serverList}).");
                }
            }
        });
        Option<double> shutdownTimeout = CommonOptions.PositiveSeconds("--shutdown-timeout", 5, "Seconds a graceful shutdown may take to flush connections.");
        Option<double?> idleTimeout = CommonOptions.OptionalSeconds("--idle-timeout", 86400, "Close TCP connections that send nothing for this many seconds (off by default).");
        Option<int> maxConnections = CommonOptions.Int("--max-connections", 0, 0, 10_000_000, "Most TCP connections open at once; extra clients are closed at once (0: no limit).");
        Option<int> perIp = CommonOptions.Int("--max-connections-per-ip", 0, 0, 10_000_000, "Most TCP connections open at once from one IP address; extra clients are closed at once (0: no limit; set it on a public address).");
        Option<int> udpRateLimit = CommonOptions.Int("--udp-rate-limit", 0, 0, 10_000_000, "Datagrams each UDP server answers per second per source address; the rest are dropped and counted (0: no limit; set it on a public address: UDP replies can be reflected at spoofed victims).");
        Option<int> slowMs = CommonOptions.Int("--slow-callback-ms", 100, 1, 3_600_000, "Log any handler or callback that holds the loop longer than this (ms).");
        Option<double?> metricsInterval = CommonOptions.OptionalSeconds("--metrics-interval", 3600, "Log a one-line summary of the EventIO metrics every this many seconds (off by default; live: dotnet-counters monitor --counters EventIO -n eventio).");
        var trace = new Option<bool>("--trace") { Description = "Print each loop turn on stdout: what the kernel was told, the wait, the ready handlers and their dispatch, timers, posted actions (see docs/watch-the-recipe-run.md)." };
        var traceFormat = new Option<string>("--trace-format")
        {
            Description = "How --trace writes a turn: text (a block per turn) or json (one JSON object per turn, per line). Implies --trace.",
            DefaultValueFactory = _ => "text",
        };
        traceFormat.AcceptOnlyFromAmong("text", "json");
        Option<int> traceTurns = CommonOptions.Int("--trace-turns", DefaultTraceTurns, 1, 100_000_000, $"Trace only the first N turns (over every loop), so a busy server cannot flood the output (default {DefaultTraceTurns}). Implies --trace.");
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log messages shown (on stderr).", DefaultValueFactory = _ => LogLevel.Information };
        Option<string> logFormat = LogFormat.CreateOption();

        var command = new Command("serve", "Run the recipe's servers on event loops (one per CPU): " + string.Join(", ", RecipeServers.All.Select(d => $"{d.Description} :{d.DefaultPort}")) + ".")
        {
            host,
        };
        foreach (Option<int> port in ports.Values)
        {
            command.Options.Add(port);
        }

        foreach (Option option in new Option[] { loops, accept, api, udpBatch, workers, workerPriority, fibMax, backend, only, shutdownTimeout, idleTimeout, maxConnections, perIp, udpRateLimit, slowMs, metricsInterval, trace, traceFormat, traceTurns, logLevel, logFormat })
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            var options = new RecipeHostOptions
            {
                Host = result.GetValue(host)!,
                Servers = [.. Split(result.GetValue(only) ?? [])],
                Loops = result.GetValue(loops),
                AcceptMode = result.GetValue(accept) == "single" ? TcpAcceptMode.SingleAcceptor : TcpAcceptMode.ReusePort,
                UdpBatchSize = result.GetValue(udpBatch),
                Api = result.GetValue(api) == "async" ? ServerApi.Async : ServerApi.Handlers,
                Ports = ports.ToDictionary(p => p.Key, p => result.GetValue(p.Value)),
                Workers = result.GetValue(workers),
                WorkerPriority = Enum.Parse<WorkerPriority>(result.GetValue(workerPriority)!, ignoreCase: true),
                FibMax = result.GetValue(fibMax),
                Backend = Enum.GetValues<PollerBackend>().First(b => BackendName(b.ToString()) == result.GetValue(backend)),
                ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)),
                IdleTimeout = result.GetValue(idleTimeout) is double idle ? TimeSpan.FromSeconds(idle) : Timeout.InfiniteTimeSpan,
                MaxConnections = result.GetValue(maxConnections),
                MaxConnectionsPerAddress = result.GetValue(perIp),
                UdpRateLimit = result.GetValue(udpRateLimit),
                SlowCallbackThreshold = TimeSpan.FromMilliseconds(result.GetValue(slowMs)),
                MetricsInterval = result.GetValue(metricsInterval) is double every ? TimeSpan.FromSeconds(every) : Timeout.InfiniteTimeSpan,
                Tracer = result.GetValue(trace) || result.GetResult(traceFormat) is { Implicit: false } || result.GetResult(traceTurns) is { Implicit: false }
                    ? new LoopTraceWriter(Console.Out, result.GetValue(traceFormat) == "json" ? LoopTraceFormat.Json : LoopTraceFormat.Text, result.GetValue(traceTurns))
                    : null,
            };
            return Serve(options, result.GetValue(logLevel), result.GetValue(logFormat)!);
        });
        return command;
    }

    private static int Serve(RecipeHostOptions options, LogLevel level, string logFormat)
    {
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => LogFormat.Configure(builder.SetMinimumLevel(level), logFormat));
        ILogger logger = loggerFactory.CreateLogger("eventio");

        RecipeHost host;
        try
        {
            host = new RecipeHost(options, logger);
        }
        catch (ListenException ex)
        {
            Console.Error.WriteLine($"eventio: {ex.Message}");
            return ExitCodes.Failure;
        }

        using (host)
        {
            // The first Ctrl+C or SIGTERM shuts down gracefully; a second one exits at once. Registered
            // before the listening lines: a supervisor may signal as soon as it reads them.
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
            foreach (Listener listener in host.Listeners)
            {
                Console.Out.WriteLine(listener);
            }

            Console.Out.Flush();
            Console.Error.WriteLine($"eventio: {host.Loops.Count} loop{(host.Loops.Count == 1 ? "" : "s")} on {host.Loops[0].Backend}");
            host.Run();
        }

        Console.Error.WriteLine("eventio: stopped");
        return ExitCodes.Ok;
    }

    // The CLI's spelling of a backend: epoll, poll, select, io_uring, auto.
    private static string BackendName(string name) => name == nameof(PollerBackend.IoUring) ? "io_uring" : name.ToLowerInvariant();

    private static IEnumerable<string> Split(IEnumerable<string> values)
        => values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
