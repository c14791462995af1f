namespace Broker.Conformance;

/// <summary>Waits for what a test cannot be told of, such as another process's state.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds, and fails the test naming <paramref name="what"/> if it
    /// does not within <paramref name="within"/> (30 s unless given).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Waited {within ?? TimeSpan.FromSeconds(30)} for {what}.");
            }
            await Task.Delay(20);
        }
    }
}
