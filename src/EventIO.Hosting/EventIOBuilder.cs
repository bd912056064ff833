using Microsoft.Extensions.DependencyInjection;

namespace EventIO.Hosting;

/// <summary>The <see cref="IEventIOBuilder"/> of one service collection.</summary>
internal sealed class EventIOBuilder(IServiceCollection services) : IEventIOBuilder
{
    public IServiceCollection Services { get; } = services;
}
