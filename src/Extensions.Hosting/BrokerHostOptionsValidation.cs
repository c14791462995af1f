using Microsoft.Extensions.Options;

namespace Broker.Hosting;

/// <summary>Fails the host's start on a URL that is not one, naming the configuration key and never the password.</summary>
/// <param name="section">The configuration section bound, or <c>null</c> when the options come from code.</param>
internal sealed class BrokerHostOptionsValidation(string? section) : IValidateOptions<BrokerHostOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerHostOptions options)
    {
        var key = section is null ? nameof(options.Url) : $"{section}:{nameof(options.Url)}";
        if (string.IsNullOrWhiteSpace(options.Url))
        {
            return ValidateOptionsResult.Fail($"{key} is empty: give the broker's URL, such as local://, redis://127.0.0.1:6379 or amqp://127.0.0.1:5672/.");
        }
        try
        {
            BrokerUrl.ParseList(options.Url);
            return ValidateOptionsResult.Success;
        }
        catch (BrokerUrlException e)
        {
            return ValidateOptionsResult.Fail($"{key}: {e.Message}");
        }
    }
}
