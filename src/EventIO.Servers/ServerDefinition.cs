using System.Net;

namespace EventIO.Servers;

/// <summary>
/// One server that a <see cref="RecipeHost"/> (and so <c>eventio serve</c>) can start: one line in
/// <see cref="RecipeServers.All"/> is all a new server takes.
/// </summary>
/// <param name="Name">Its name on the command line and in logs (<c>udp-time</c>, …).</param>
/// <param name="Protocol">What it listens on (TCP and UDP ports are separate spaces).</param>
/// <param name="DefaultPort">The recipe's port.</param>
/// <param name="PortOption">The CLI option that sets its port, without dashes (<c>time-port</c>).</param>
/// <param name="Description">One line for the help text.</param>
/// <param name="Create">Binds the server at an address; the host adds it to its loop.</param>
public sealed record ServerDefinition(
    string Name,
    ServerProtocol Protocol,
    int DefaultPort,
    string PortOption,
    string Description,
    Func<ServerContext, IPEndPoint, LoopHandler> Create);
