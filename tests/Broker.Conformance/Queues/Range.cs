namespace Broker.Conformance;

using Broker;

/// <summary>The items 0, 1, ... count - 1 that the queue tests put, and expect back in that order.</summary>
internal static class Range
{
    public static async Task PutAsync(Queue<int> queue, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await queue.PutAsync(i);
        }
    }

    public static async Task GetInOrderAsync(Queue<int> queue, int count, TimeSpan timeout)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i, await queue.GetAsync(timeout));
        }
    }
}
