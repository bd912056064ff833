using EventIO.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Hosting;

/// <summary>Builds Generic Hosts with EventIO for the tests: in-memory configuration, no console logging, a shutdown timeout.</summary>
internal static class HostingTestSupport
{
    /// <summary>A host whose configuration is <paramref name="settings"/> (then anything <paramref name="configureConfiguration"/> adds), with EventIO added by <paramref name="addEventIO"/>.</summary>
    public static IHost Build(
        Action<IEventIOBuilder> addEventIO,
        Dictionary<string, string?>? settings = null,
        TimeSpan? shutdownTimeout = null,
        Action<IConfigurationBuilder>? configureConfiguration = null,
        Action<IServiceCollection>? services = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        configureConfiguration?.Invoke(builder.Configuration);
        builder.Logging.ClearProviders();
        builder.Services.AddMetrics();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(10));
        services?.Invoke(builder.Services);
        addEventIO(builder.Services.AddEventLoop());
        return builder.Build();
    }

    /// <summary>The listener of the server named <paramref name="name"/>.</summary>
    public static EventIOListener Listener(this IHost host, string name)
        => host.Services.GetRequiredService<EventIOHostedService>().Listeners.Single(l => l.Name == name);
}
