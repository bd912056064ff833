using System.Diagnostics.Metrics;
using EventIO.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventIO.Hosting;

/// <summary>Adds EventIO to a host: <c>builder.Services.AddEventLoop().AddTcpServer&lt;MyConnection&gt;("name")</c>.</summary>
public static class EventIOServiceCollectionExtensions
{
    /// <summary>
    /// Registers the event loops (<see cref="EventLoopHostOptions"/>, from the configuration section <c>EventIO</c>
    /// over <paramref name="configure"/>), the <see cref="EventIOMetrics"/> (on the host's <see cref="IMeterFactory"/>
    /// when it has one) and <see cref="EventIOHostedService"/>, which runs the loops on their own threads while
    /// the host runs. Add servers to what it returns. Call it once.
    /// </summary>
    public static IEventIOBuilder AddEventLoop(this IServiceCollection services, Action<EventLoopHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null)
        {
            services.Configure(configure); // before the binding: configuration wins over code
        }

        if (!services.Any(d => d.ServiceType == typeof(EventIOHostedService)))
        {
            services.AddOptions<EventLoopHostOptions>().ValidateOnStart();
            services.AddSingleton<IConfigureOptions<EventLoopHostOptions>>(sp => new ConfigureFromSection<EventLoopHostOptions>(sp, Options.DefaultName, EventLoopHostOptions.SectionName));
            services.TryAddSingleton<HostOptionsValidator>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EventLoopHostOptions>, HostOptionsValidator>(sp => sp.GetRequiredService<HostOptionsValidator>()));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TcpServerHostOptions>, HostOptionsValidator>(sp => sp.GetRequiredService<HostOptionsValidator>()));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UdpServerHostOptions>, HostOptionsValidator>(sp => sp.GetRequiredService<HostOptionsValidator>()));
            services.TryAddSingleton(sp => new EventIOMetrics(sp.GetService<IMeterFactory>()));
            services.AddSingleton(sp => new EventIOHostedService(sp));
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<EventIOHostedService>());
        }

        return new EventIOBuilder(services);
    }
}
