using Microsoft.Extensions.DependencyInjection;

namespace EventIO.Hosting;

/// <summary>What <see cref="EventIOServiceCollectionExtensions.AddEventLoop"/> returns: add servers to it (<see cref="EventIOBuilderExtensions"/>).</summary>
public interface IEventIOBuilder
{
    /// <summary>The services the loops and servers are registered in.</summary>
    IServiceCollection Services { get; }
}
