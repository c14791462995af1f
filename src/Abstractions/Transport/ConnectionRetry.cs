using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Broker.Transport;

/// <summary>The retry every transport puts around its broker calls (docs/guarantees.md, Giving up): exponential backoff with
/// jitter from 200 ms to at most 4 s between tries, a bounded number of tries, and a warning logged for each.</summary>
public static class ConnectionRetry
{
    /// <param name="isConnectionFault">Which failures a new try can cure; anything else fails at once.</param>
    /// <param name="logger">Where each retry is logged.</param>
    /// <param name="broker">The broker's name and URL with credentials hidden, such as <c>Redis at redis://host:6379</c>.</param>
    /// <param name="retries">How many tries follow the first: 6 wait about 10 s in all, 8 about 18 s.</param>
    /// <param name="time">The clock the pauses between tries are kept on: <see cref="BrokerOptions.TimeProvider"/>.</param>
    public static ResiliencePipeline Create(Func<Exception, bool> isConnectionFault, ILogger logger, string broker, int retries, TimeProvider time) =>
        new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle(isConnectionFault),
            MaxRetryAttempts = retries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(4),
            OnRetry = retry =>
            {
                logger.LogWarning("{Broker} failed ({Reason}); retry {Attempt} in {Delay}",
                    broker, retry.Outcome.Exception?.Message, retry.AttemptNumber + 1, retry.RetryDelay);
                return default;
            },
        }).Build();
}
