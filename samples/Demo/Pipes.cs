namespace Demo;

using System.Text.Json;
using Broker;

/// <summary>The tutorial's Pipe: a child sends a message through its end of a pipe and closes it; the parent
/// receives it, then the end of the pipe.</summary>
public static class Pipes
{
    public static int Run(Arguments args)
    {
        var (parentEnd, childEnd) = Pipe.Create();
        var child = new Process(Send, childEnd);
        child.Start();
        Console.WriteLine(parentEnd.Recv<JsonElement>().GetRawText());
        try
        {
            parentEnd.Recv<JsonElement>();
            return 1;
        }
        catch (EndOfStreamException)
        {
        }
        child.Join();
        Console.WriteLine("pipe ok");
        return child.ExitCode == 0 ? 0 : 1;
    }

    public static void Send(Connection connection)
    {
        connection.Send(new object?[] { 42, null, "hello" });
        connection.Close();
    }
}
