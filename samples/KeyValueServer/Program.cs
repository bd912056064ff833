using EventIO.Diagnostics;
using EventIO.Hosting;
using EventIO.Samples.KeyValue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

// A key-value server on EventIO in the Generic Host: `dotnet run --project samples/KeyValueServer`, then
// `nc 127.0.0.1 7379` and type `SET a 1`, `GET a`. Settings: appsettings.json, then environment variables
// (EventIO__Servers__kv__Port=7400), then the command line (--EventIO:Loops=2).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json beside the binary, wherever it is started from
});
builder.Services.AddSystemd(); // Type=notify under systemd (READY=1 once every port is bound, STOPPING=1); nothing elsewhere

builder.Services.AddOptions<KeyValueOptions>().BindConfiguration("KeyValue");
builder.Services.AddSingleton<KeyValueStore>();
builder.Services.AddEventLoop()
    .AddTcpServer<KeyValueConnection>("kv", o => o.Port = 7379); // code's default; EventIO:Servers:kv in configuration wins

// Metrics: the EventIO meter (and the app's own) through OpenTelemetry. Swap the console exporter for OTLP
// (OpenTelemetry.Exporter.OpenTelemetryProtocol) or Prometheus in production; `dotnet-counters monitor
// --counters EventIO,KeyValueServer -n KeyValueServer` works without any of it.
if (builder.Configuration.GetValue<bool>("Telemetry:ConsoleExporter"))
{
    TimeSpan every = builder.Configuration.GetValue("Telemetry:ExportInterval", TimeSpan.FromSeconds(10));
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
        .AddMeter(EventIOMetrics.MeterName, "KeyValueServer")
        .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)every.TotalMilliseconds));
}

builder.Build().Run(); // SIGTERM or Ctrl+C: the connections flush and close within the host's shutdown timeout
