using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Work;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventIO.Hosting;

/// <summary>Adds servers and a worker pool to the loops of <see cref="EventIOServiceCollectionExtensions.AddEventLoop"/>.</summary>
public static class EventIOBuilderExtensions
{
    /// <summary>As <see cref="AddTcpServer{TConnection}(IEventIOBuilder, string, Action{TcpServerHostOptions}?)"/>, with options from configuration only.</summary>
    public static IEventIOBuilder AddTcpServer<TConnection>(this IEventIOBuilder builder, string name)
        where TConnection : TcpConnection
        => builder.AddTcpServer<TConnection>(name, configure: null);

    /// <summary>
    /// Adds a TCP server named <paramref name="name"/> whose connections are <typeparamref name="TConnection"/>s made
    /// through DI: its constructor takes the accepted socket's <see cref="SafeSocketHandle"/> and any registered
    /// singletons. Options come from <c>EventIO:Servers:NAME</c> over <paramref name="configure"/>. With several
    /// loops, one listener per loop shares the port (<c>SO_REUSEPORT</c>).
    /// </summary>
    public static IEventIOBuilder AddTcpServer<TConnection>(this IEventIOBuilder builder, string name, Action<TcpServerHostOptions>? configure)
        where TConnection : TcpConnection
    {
        ObjectFactory<TConnection> factory = ActivatorUtilities.CreateFactory<TConnection>([typeof(SafeSocketHandle)]);
        return builder.AddTcpServer(name, (services, socket) => factory(services, [socket]), configure);
    }

    /// <summary>As <see cref="AddTcpServer{TConnection}(IEventIOBuilder, string, Action{TcpServerHostOptions}?)"/>, with a factory of your own for each accepted connection (called on the loop thread it will live on).</summary>
    public static IEventIOBuilder AddTcpServer(this IEventIOBuilder builder, string name, Func<IServiceProvider, SafeSocketHandle, TcpConnection> createConnection, Action<TcpServerHostOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(createConnection);
        AddServer(builder.Services, name, configure);
        builder.Services.AddSingleton<ServerRegistration>(new TcpServerRegistration(name, createConnection));
        return builder;
    }

    /// <summary>As <see cref="AddUdpServer{TServer}(IEventIOBuilder, string, Action{UdpServerHostOptions}?)"/>, with options from configuration only.</summary>
    public static IEventIOBuilder AddUdpServer<TServer>(this IEventIOBuilder builder, string name)
        where TServer : UdpServer
        => builder.AddUdpServer<TServer>(name, configure: null);

    /// <summary>
    /// Adds a UDP server named <paramref name="name"/>: one <typeparamref name="TServer"/> per loop, made through DI
    /// with its constructor's <see cref="IPEndPoint"/> and <see cref="UdpServerOptions"/> (the bound address and the
    /// options from <c>EventIO:Servers:NAME</c> over <paramref name="configure"/>) and any registered singletons.
    /// </summary>
    public static IEventIOBuilder AddUdpServer<TServer>(this IEventIOBuilder builder, string name, Action<UdpServerHostOptions>? configure)
        where TServer : UdpServer
        => builder.AddUdpServer(name, static (services, endPoint, options) => ActivatorUtilities.CreateInstance<TServer>(services, endPoint, options), configure);

    /// <summary>As <see cref="AddUdpServer{TServer}(IEventIOBuilder, string, Action{UdpServerHostOptions}?)"/>, with a factory of your own (called once per loop).</summary>
    public static IEventIOBuilder AddUdpServer(this IEventIOBuilder builder, string name, Func<IServiceProvider, IPEndPoint, UdpServerOptions, UdpServer> createServer, Action<UdpServerHostOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(createServer);
        AddServer(builder.Services, name, configure);
        builder.Services.AddSingleton<ServerRegistration>(new UdpServerRegistration(name, createServer));
        return builder;
    }

    /// <summary>
    /// Registers a <see cref="WorkerPool"/> singleton for blocking or CPU-heavy work (inject it into connections),
    /// observed in the metrics as <c>eventio.worker_pool</c> = <c>workers</c> and shut down with the host.
    /// </summary>
    public static IEventIOBuilder AddWorkerPool(this IEventIOBuilder builder, int workerCount, int queueCapacity, WorkerPriority priority)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(_ => new WorkerPool(workerCount, queueCapacity, priority));
        return builder;
    }

    private static void AddServer<TOptions>(IServiceCollection services, string name, Action<TOptions>? configure)
        where TOptions : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (configure is not null)
        {
            services.Configure(name, configure); // before the binding: configuration wins over code
        }

        services.AddOptions<TOptions>(name).ValidateOnStart();
        services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureFromSection<TOptions>(sp, name, $"{EventLoopHostOptions.SectionName}:Servers:{name}"));
    }
}
