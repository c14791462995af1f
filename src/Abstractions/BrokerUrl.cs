using System.Text;

namespace Broker;

/// <summary>One broker address, such as <c>local://</c>, <c>redis://127.0.0.1:6379</c> or
/// <c>amqp://host:5672/vhost</c>, with any credentials as <c>user:password@</c> before the host.
/// <see cref="ToString"/> hides the password.</summary>
public sealed class BrokerUrl
{
    private Uri? _uri;

    private BrokerUrl(string original, string scheme, Uri? uri)
    {
        Original = original;
        Scheme = scheme;
        Display = Redact(original);
        _uri = uri;
    }

    /// <summary>The parsed address, credentials included: hand it to a client library, never to a log.</summary>
    /// <exception cref="BrokerUrlException">A <c>local://</c> address, which is parsed only when asked for, is
    /// malformed.</exception>
    public Uri Uri => _uri ??= Uri.TryCreate(Original, UriKind.Absolute, out var uri) ? uri : throw NotAUrl(Original);

    /// <summary>The address as it was given, credentials included.</summary>
    public string Original { get; }

    /// <summary>The scheme in lower case: <c>local</c>, <c>redis</c>, <c>amqp</c>, ...</summary>
    public string Scheme { get; }

    /// <summary>What follows <c>scheme://</c> in <see cref="Original"/>, as given.</summary>
    public string SchemeSpecificPart => Original[(Scheme.Length + 3)..];

    /// <summary>The address with any password replaced by <c>***</c>, safe for logs and messages.</summary>
    public string Display { get; }

    /// <inheritdoc/>
    public override string ToString() => Display;

    /// <summary>Parses one address. A <c>local://</c> address is left to its transport, which reads it without
    /// <see cref="System.Uri"/>: every child of a local broker parses one as it starts, and System.Uri is slow
    /// the first time a process uses it.</summary>
    /// <exception cref="BrokerUrlException">The text is not an absolute URL with a scheme.</exception>
    public static BrokerUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.Trim();
        var schemeEnd = SchemeEnd(text);
        if (schemeEnd < 0)
        {
            throw NotAUrl(text);
        }
        var scheme = text[..schemeEnd].ToLowerInvariant();
        if (scheme == "local")
        {
            return new BrokerUrl(text, scheme, uri: null);
        }
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) ? new BrokerUrl(text, scheme, uri) : throw NotAUrl(text);
    }

    /// <summary>The text shows what follows its last <c>@</c> only: where it is not a URL, what comes before may be a
    /// password that <see cref="Redact"/> cannot find.</summary>
    private static BrokerUrlException NotAUrl(string text)
    {
        var at = text.LastIndexOf('@');
        return new($"'{(at < 0 ? text : "***" + text[at..])}' is not a broker URL: expected scheme://..., such as local://, " +
            "redis://127.0.0.1:6379 or amqp://127.0.0.1:5672/.");
    }

    /// <summary>Parses a composite address: one or more URLs separated by commas, in order of preference.</summary>
    public static IReadOnlyList<BrokerUrl> ParseList(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var parts = urls.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Any(p => p.Length == 0))
        {
            throw new BrokerUrlException($"'{Redact(urls)}' has an empty entry: list broker URLs separated by single commas.");
        }
        return parts.Select(Parse).ToArray();
    }

    /// <summary>Replaces the password in every URL inside <paramref name="text"/> by <c>***</c>.</summary>
    // Scanned by hand, as the scheme is: a child parses its broker's URL as it starts, and regular expressions cost it
    // their code's compilation.
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        StringBuilder? redacted = null;
        var copied = 0;
        for (var at = text.IndexOf("://", StringComparison.Ordinal); at >= 0; at = text.IndexOf("://", at, StringComparison.Ordinal))
        {
            at += 3;
            var colon = text.AsSpan(at).IndexOfAny(":/@, \t\r\n");
            if (colon < 0 || text[at + colon] != ':')
            {
                continue;
            }
            var password = at + colon + 1;
            var end = text.AsSpan(password).IndexOfAny("@/, \t\r\n");
            if (end < 0 || text[password + end] != '@')
            {
                continue;
            }
            redacted ??= new StringBuilder(text.Length);
            redacted.Append(text, copied, password - copied).Append("***");
            copied = password + end;
            at = copied;
        }
        return redacted is null ? text : redacted.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>Where the <c>://</c> after <paramref name="text"/>'s scheme is, or -1 if it does not start with
    /// <c>scheme://</c>, the scheme a letter followed by letters, digits, <c>+</c>, <c>.</c> or <c>-</c> (RFC 3986).</summary>
    private static int SchemeEnd(string text)
    {
        var end = text.IndexOf("://", StringComparison.Ordinal);
        if (end <= 0 || !char.IsAsciiLetter(text[0]))
        {
            return -1;
        }
        foreach (var c in text.AsSpan(1, end - 1))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '.' or '-'))
            {
                return -1;
            }
        }
        return end;
    }
}
