namespace Broker.Tests.Redis;

using System.Diagnostics;
using Broker;

/// <summary>When Redis cannot serve, a call says so in bounded time: refused credentials at once, with no retries and
/// no password in the message; a lost server after the retry budget, or sooner at the call's own timeout.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisGiveUpTests
{
    /// <summary>Far longer than any bound below: a call that waited for it was retried to the end.</summary>
    private const string LongRetry = "retry=60s";

    /// <summary>A call's second, or the budget's, and one command's time on top.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Refused_credentials_fail_without_retries_and_the_message_hides_the_password()
    {
        using var server = new OwnRedisServer("--requirepass", "the-right-one");
        await server.StartAsync();
        await using var broker = BrokerContext.Connect($"redis://:not-the-password@127.0.0.1:{server.Port}?{LongRetry}");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BrokerException>(() => new Queue<int>(broker: broker).PutAsync(1).AsTask());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"refused credentials were retried for {clock.Elapsed}");
        Assert.IsNotType<BrokerUnavailableException>(error);
        Assert.Contains("refused the credentials", error.Message);
        Assert.DoesNotContain("not-the-password", error.ToString());
    }

    [Fact]
    public async Task A_server_that_goes_away_fails_a_Get_at_its_own_timeout_and_a_Put_at_the_retry_budget()
    {
        using var server = new OwnRedisServer();
        await server.StartAsync();
        await using var patient = BrokerContext.Connect($"redis://127.0.0.1:{server.Port}?{LongRetry}");
        await using var hasty = BrokerContext.Connect($"redis://127.0.0.1:{server.Port}?retry=1s");
        var waiting = new Queue<int>(broker: patient);
        var putting = new Queue<int>(name: waiting.Name, broker: hasty);
        await putting.PutAsync(1);
        Assert.Equal(1, await waiting.GetAsync(TimeSpan.FromSeconds(5)));
        await server.KillAsync();

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<BrokerUnavailableException>(() => waiting.GetAsync(TimeSpan.FromSeconds(1)).AsTask());
        Assert.True(clock.Elapsed < Bound, $"a Get with a 1 s timeout took {clock.Elapsed} to fail");

        clock.Restart();
        await Assert.ThrowsAsync<BrokerUnavailableException>(() => putting.PutAsync(2).AsTask());
        Assert.True(clock.Elapsed < Bound, $"a Put with a 1 s retry budget took {clock.Elapsed} to fail");
    }
}
