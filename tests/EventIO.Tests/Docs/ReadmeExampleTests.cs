using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Docs;

public sealed class ReadmeExampleTests
{
    [Fact]
    public void ShoutServer_FromTheReadme_AnswersInUpperCase()
    {
        using var loop = new LoopThread();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(Loopback.AnyPort);
        socket.Blocking = false;
        loop.Invoke(() => loop.Loop.Add(new ShoutServer(socket)));

        using Socket client = Loopback.UdpClient();
        Assert.Equal("HELLO, LOOP", Loopback.UdpRequest(client, (IPEndPoint)socket.LocalEndPoint!, "hello, loop"u8));
    }

    [Fact]
    public void AsyncShout_FromTheReadme_AnswersInUpperCase_AndTheReadmeShowsItAsBuilt()
    {
        using var loop = new LoopThread();
        var server = loop.Invoke(() =>
        {
            var s = new EventIO.Net.TcpServer(Loopback.AnyPort, EventIO.Async.AsyncTcpConnection.Factory(AsyncShout.ServeAsync));
            loop.Loop.Add(s);
            return s;
        });
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        client.Send("hello, await"u8);
        Assert.Equal("HELLO, AWAIT"u8.ToArray(), Loopback.ReceiveExactly(client, 12));

        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string source = File.ReadAllText(Path.Combine(root, "tests", "EventIO.Tests", "Docs", "AsyncShout.cs")).ReplaceLineEndings("\n");
        string body = source[source.IndexOf("    // One task", StringComparison.Ordinal)..source.LastIndexOf('}')].TrimEnd();
        Assert.Contains(body, readme, StringComparison.Ordinal);
    }

    // The README's "Writing a TCP server" shows the chat sample's files whole; they are built and tested
    // (tests/EventIO.Tests/Samples), so the README must show them exactly as they are.
    [Theory]
    [InlineData("ChatConnection.cs")]
    [InlineData("ChatRoom.cs")]
    [InlineData("Program.cs")]
    public void ChatSample_TheReadmeShowsTheFileAsBuilt(string file)
    {
        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string source = File.ReadAllText(Path.Combine(root, "samples", "ChatServer", file)).ReplaceLineEndings("\n").TrimEnd();

        Assert.Contains("```csharp\n" + source + "\n```", readme, StringComparison.Ordinal);
    }

    // The packages' README (docs/package-readme.md) shows the same handler example as the README.
    [Fact]
    public void PackageReadme_ShowsTheReadmesHandlerExample()
    {
        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string package = File.ReadAllText(Path.Combine(root, "docs", "package-readme.md")).ReplaceLineEndings("\n");
        int start = package.IndexOf("```csharp\n", StringComparison.Ordinal);
        int end = package.IndexOf("\n```\n", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "no C# example in docs/package-readme.md");
        string example = package[start..(end + 4)];
        Assert.Contains("class ShoutServer", example, StringComparison.Ordinal);
        Assert.Contains(example, readme, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "EventIO.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("The repository root (EventIO.slnx) was not found above the test binaries.");
    }
}
