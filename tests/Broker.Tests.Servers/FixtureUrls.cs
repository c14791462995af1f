namespace Broker.Tests.Servers;

/// <summary>The settings Broker's own Redis tests run with.</summary>
public static class FixtureUrls
{
    /// <summary>The fixture's URL with short leases, so that tests of a dead holder wait two seconds, not ten.</summary>
    public static string ShortLeaseUrl(this RedisFixture redis) => redis.UrlWith("lease=2s&poll=100ms");
}
