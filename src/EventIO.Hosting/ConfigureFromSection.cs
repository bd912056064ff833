using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EventIO.Hosting;

/// <summary>
/// Binds the options named <paramref name="name"/> from the configuration section at <paramref name="path"/>, when
/// the services have an <see cref="IConfiguration"/> (a host always does); registered after the code's own
/// <c>configure</c>, so configuration wins over code defaults.
/// </summary>
internal sealed class ConfigureFromSection<TOptions>(IServiceProvider services, string name, string path) : IConfigureNamedOptions<TOptions>
    where TOptions : class
{
    public void Configure(string? name1, TOptions options)
    {
        if (string.Equals(name1 ?? Options.DefaultName, name, StringComparison.Ordinal) && services.GetService(typeof(IConfiguration)) is IConfiguration configuration)
        {
            configuration.GetSection(path).Bind(options);
        }
    }

    public void Configure(TOptions options) => Configure(Options.DefaultName, options);
}
