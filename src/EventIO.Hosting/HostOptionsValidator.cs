using Microsoft.Extensions.Options;

namespace EventIO.Hosting;

/// <summary>
/// Checks the loops' and servers' options when the host starts (<c>ValidateOnStart</c>), so a bad
/// <c>appsettings.json</c> or environment variable stops the host with one message naming the setting.
/// </summary>
internal sealed class HostOptionsValidator :
    IValidateOptions<EventLoopHostOptions>, IValidateOptions<TcpServerHostOptions>, IValidateOptions<UdpServerHostOptions>
{
    public ValidateOptionsResult Validate(string? name, EventLoopHostOptions options)
    {
        var failures = new List<string>();
        if (options.Loops is < 0 or > EventLoopGroup.MaxLoops)
        {
            failures.Add($"EventIO:Loops must be from 0 (one per CPU) to {EventLoopGroup.MaxLoops} (got {options.Loops}).");
        }

        if (!Enum.IsDefined(options.Backend))
        {
            failures.Add($"EventIO:Backend is not a known backend (got {options.Backend}).");
        }

        if (options.SlowCallbackThreshold <= TimeSpan.Zero && options.SlowCallbackThreshold != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"EventIO:SlowCallbackThreshold must be positive (got {options.SlowCallbackThreshold}).");
        }

        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, TcpServerHostOptions options)
    {
        var failures = new List<string>();
        Endpoint(failures, name, options.Address, options.Port);
        if (options.Backlog < 1)
        {
            failures.Add($"EventIO:Servers:{name}:Backlog must be at least 1 (got {options.Backlog}).");
        }

        if (options.MaxConnections < 0)
        {
            failures.Add($"EventIO:Servers:{name}:MaxConnections must be 0 (no limit) or more (got {options.MaxConnections}).");
        }

        if (options.MaxConnectionsPerAddress < 0)
        {
            failures.Add($"EventIO:Servers:{name}:MaxConnectionsPerAddress must be 0 (no limit) or more (got {options.MaxConnectionsPerAddress}).");
        }

        if (options.IdleTimeout is { } idle && idle <= TimeSpan.Zero)
        {
            failures.Add($"EventIO:Servers:{name}:IdleTimeout must be positive, or absent for none (got {idle}).");
        }

        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, UdpServerHostOptions options)
    {
        var failures = new List<string>();
        Endpoint(failures, name, options.Address, options.Port);
        if (options.BatchSize is < 1 or > 64)
        {
            failures.Add($"EventIO:Servers:{name}:BatchSize must be from 1 to 64 (got {options.BatchSize}).");
        }

        if (options.ReceiveBudget < 1)
        {
            failures.Add($"EventIO:Servers:{name}:ReceiveBudget must be at least 1 (got {options.ReceiveBudget}).");
        }

        if (options.RateLimit < 0 || options.RateLimitBurst < 0)
        {
            failures.Add($"EventIO:Servers:{name}:RateLimit and RateLimitBurst must be 0 (no limit; one second's worth) or more (got {options.RateLimit}, {options.RateLimitBurst}).");
        }

        if (options.ReceiveBufferSize < 0)
        {
            failures.Add($"EventIO:Servers:{name}:ReceiveBufferSize must be 0 (the system's default) or more (got {options.ReceiveBufferSize}).");
        }

        return Result(failures);
    }

    private static void Endpoint(List<string> failures, string? name, string? address, int port)
    {
        if (!HostAddress.TryParse(address, out _))
        {
            failures.Add($"EventIO:Servers:{name}:Address must be an IP address, localhost or * (got '{address}').");
        }

        if (port is < 0 or > 65535)
        {
            failures.Add($"EventIO:Servers:{name}:Port must be from 0 to 65535 (got {port}).");
        }
    }

    private static ValidateOptionsResult Result(List<string> failures)
        => failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
