namespace Broker.Tests.Servers;

using System.Diagnostics;
using Broker;
using Process = System.Diagnostics.Process;

/// <summary>RabbitMQ stopped and started again (rabbitmqctl stop_app, start_app: every connection dropped, queues
/// recovered from disk) in the middle of a stream of joinable puts and gets. Every Put that returned was confirmed,
/// so it must be delivered; items whose TaskDone was cut off are delivered again, and Join still returns.</summary>
[Collection(RabbitMqProcessCollection.Name)]
public sealed class RabbitMqRestartTests(RabbitMqServer rabbitMq)
{
    /// <summary>The rabbitmqctl command of the server under test; ./test.sh sets it for the server it starts.</summary>
    public const string ControlVariable = "BROKER_TEST_RABBITMQCTL";

    [Fact]
    public async Task No_put_that_returned_is_lost_when_RabbitMQ_restarts()
    {
        var control = Environment.GetEnvironmentVariable(ControlVariable) is { Length: > 0 } command
            ? command
            : throw new InvalidOperationException($"This test restarts RabbitMQ through rabbitmqctl: set {ControlVariable} (./test.sh does).");
        await using var broker = BrokerContext.Connect(rabbitMq.Url);
        await FaultStream.LosesNothingAsync(broker, async () =>
        {
            await ControlAsync(control, "stop_app");
            await Task.Delay(500);
            await ControlAsync(control, "start_app");
        });
    }

    private static async Task ControlAsync(string control, string command)
    {
        using var process = Process.Start("/bin/sh", ["-c", $"{control} -q {command}"])!;
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"{control} {command} failed with exit code {process.ExitCode}");
    }
}
