using System.Globalization;

namespace Broker;

/// <summary>The settings in a broker URL's query, such as <c>?lease=10s&amp;poll=500ms</c>, for the transport that
/// serves the URL. A setting the transport does not know is refused, so that a typo is never silently ignored.</summary>
public sealed class BrokerUrlSettings
{
    private readonly BrokerUrl _url;
    private readonly Dictionary<string, string> _values;

    private BrokerUrlSettings(BrokerUrl url, Dictionary<string, string> values)
    {
        _url = url;
        _values = values;
    }

    /// <summary>Reads the query of <paramref name="url"/>.</summary>
    /// <param name="url">The broker URL.</param>
    /// <param name="transport">The transport's name, for messages.</param>
    /// <param name="known">The settings the transport takes.</param>
    /// <exception cref="BrokerUrlException">A setting is not one of <paramref name="known"/>, or is repeated.</exception>
    public static BrokerUrlSettings Read(BrokerUrl url, string transport, params string[] known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in url.Uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (Uri.UnescapeDataString(k), Uri.UnescapeDataString(v)) : (pair, "");
            if (!known.Contains(key))
            {
                var takes = known.Length == 0 ? "no settings" : "only " + string.Join(", ", known);
                throw new BrokerUrlException($"'{url.Display}' has the unknown setting '{key}': the {transport} transport takes {takes}.");
            }
            if (!values.TryAdd(key, value))
            {
                throw new BrokerUrlException($"'{url.Display}' sets '{key}' twice.");
            }
        }
        return new BrokerUrlSettings(url, values);
    }

    /// <summary>A duration written as <c>10s</c>, <c>1500ms</c> or <c>2m</c>; <paramref name="fallback"/> when absent.</summary>
    public TimeSpan Duration(string key, TimeSpan fallback)
    {
        if (!_values.TryGetValue(key, out var text))
        {
            return fallback;
        }
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1.0)
            : text.EndsWith('s') ? (text[..^1], 1000.0)
            : text.EndsWith('m') ? (text[..^1], 60_000.0)
            : (text, double.NaN);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && !double.IsNaN(unit)
            ? TimeSpan.FromMilliseconds(value * unit)
            : throw new BrokerUrlException($"'{_url.Display}' sets {key} to '{text}': give a positive duration such as 10s or 1500ms.");
    }

    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>; <paramref name="fallback"/> when absent.</summary>
    public int Integer(string key, int fallback, int minimum, int maximum)
    {
        if (!_values.TryGetValue(key, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw new BrokerUrlException($"'{_url.Display}' sets {key} to '{text}': give a whole number from {minimum} to {maximum}.");
    }

    /// <summary>Text that <paramref name="isValid"/> accepts; <paramref name="fallback"/> when absent.</summary>
    /// <param name="key">The setting.</param>
    /// <param name="fallback">The value when the URL does not set it.</param>
    /// <param name="isValid">Whether a value can be used.</param>
    /// <param name="rule">What a valid value looks like, for the message, such as <c>give 1 to 64 letters or digits</c>.</param>
    public string Text(string key, string fallback, Func<string, bool> isValid, string rule)
    {
        ArgumentNullException.ThrowIfNull(isValid);
        if (!_values.TryGetValue(key, out var text))
        {
            return fallback;
        }
        return isValid(text) ? text : throw new BrokerUrlException($"'{_url.Display}' sets {key} to '{text}': {rule}.");
    }
}
