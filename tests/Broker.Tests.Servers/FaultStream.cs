namespace Broker.Tests.Servers;

using System.Collections.Concurrent;
using Broker;

/// <summary>A stream of joinable puts and gets with a broker fault in the middle. Every Put that returned was
/// accepted by the broker, so it must be delivered, and Join must return once every item is done.</summary>
public static class FaultStream
{
    private const int Items = 300;

    /// <param name="broker">The broker under test.</param>
    /// <param name="fault">Breaks the broker and brings it back, once a third of the puts returned.</param>
    public static async Task LosesNothingAsync(BrokerContext broker, Func<Task> fault)
    {
        var queue = new JoinableQueue<int>(broker: broker);
        var confirmed = new ConcurrentBag<int>();
        var received = new ConcurrentBag<int>();
        using var stop = new CancellationTokenSource();

        var producing = Task.Run(async () =>
        {
            for (var i = 0; i < Items; i++)
            {
                // A put gives up once the broker has been down longer than its retry budget (docs/guarantees.md): it
                // did not return, so it counts for nothing, and the producer puts the item again, as an application would.
                while (true)
                {
                    try
                    {
                        await queue.PutAsync(i);
                        break;
                    }
                    catch (BrokerUnavailableException)
                    {
                    }
                }
                confirmed.Add(i);
                await Task.Delay(5);
            }
        });
        var consuming = Task.Run(async () =>
        {
            while (true)
            {
                int item;
                try
                {
                    item = await queue.GetAsync(null, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (BrokerUnavailableException)
                {
                    continue; // gave up as a put does; nothing was taken
                }
                received.Add(item);
                try
                {
                    await queue.TaskDoneAsync();
                }
                catch (BrokerUnavailableException)
                {
                    // The mark did not reach the broker: the item comes back, and is done again.
                }
            }
        });

        await Eventually.TrueAsync(() => Task.FromResult(confirmed.Count >= Items / 3), "a third of the puts");
        await fault();

        await producing.WaitAsync(TimeSpan.FromSeconds(60));
        var joining = queue.JoinAsync(TimeSpan.FromSeconds(60)).AsTask();
        if (await Task.WhenAny(joining, consuming) == consuming)
        {
            await consuming; // A consumer that failed fails the test with its own error, not as a Join that waits.
        }
        Assert.True(await joining, "Join returns once every item is done");
        stop.Cancel();
        await consuming.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Items, confirmed.Count);
        Assert.Empty(confirmed.Except(received));
    }
}
